package znet

import (
	"golang.org/x/sys/windows"

	"github.com/zokio/zokio/poller"
)

// bindFd binds fd to sa (a Dialer's LocalAddr).
func bindFd(fd int, sa *poller.Sockaddr) error { return rawBind(handle(fd), sa) }

// setBroadcast lets a UDP socket send to broadcast addresses, as Go's does.
func setBroadcast(fd int) {
	_ = windows.SetsockoptInt(handle(fd), windows.SOL_SOCKET, windows.SO_BROADCAST, 1)
}

//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package znet

import (
	"golang.org/x/sys/unix"

	"github.com/zokio/zokio/poller"
)

// bindFd binds fd to sa (a Dialer's LocalAddr).
func bindFd(fd int, sa *poller.Sockaddr) error { return rawBind(fd, sa) }

// setBroadcast lets a UDP socket send to broadcast addresses, as Go's does.
func setBroadcast(fd int) { _ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_BROADCAST, 1) }

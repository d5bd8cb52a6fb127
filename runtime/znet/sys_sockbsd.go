//go:build dragonfly || freebsd || netbsd || openbsd

package znet

import (
	"os"

	"golang.org/x/sys/unix"
)

// FreeBSD, NetBSD, OpenBSD and DragonFly have Linux's socket(2) flags and
// MSG_NOSIGNAL.

// msgNoSignal makes a send on a broken stream fail with EPIPE instead of raising
// SIGPIPE.
const msgNoSignal = unix.MSG_NOSIGNAL

// newSocket creates a non-blocking, close-on-exec socket.
func newSocket(family, sotype int) (int, error) {
	fd, err := unix.Socket(family, sotype|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, os.NewSyscallError("socket", err)
	}
	return fd, nil
}

//go:build unix

package znet

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// The adapters' direct socket calls through x/sys's functions, which call libc on
// macOS and OpenBSD (direct_libc.go uses them there). They build on every Unix, so
// that their tests run on Linux too. On a connected stream socket recvfrom reports no
// source address, so Recvfrom decodes none.

// xsysRecv receives into p without waiting: n > 0 bytes, (0, 0) at EOF, or an errno
// (EAGAIN when nothing is there).
func xsysRecv(fd int, p []byte) (int, syscall.Errno) {
	for {
		n, _, err := unix.Recvfrom(fd, p, unix.MSG_DONTWAIT)
		if err == nil {
			return n, 0
		}
		if errno := errnoOf(err); errno != unix.EINTR {
			return 0, errno
		}
	}
}

// xsysSend sends from p without waiting, with flags (msgNoSignal), and returns how
// much the socket took, or an errno (EAGAIN when its buffer is full).
func xsysSend(fd int, p []byte, flags int) (int, syscall.Errno) {
	for {
		n, err := unix.SendmsgN(fd, p, nil, nil, unix.MSG_DONTWAIT|flags)
		if err == nil {
			return n, 0
		}
		if errno := errnoOf(err); errno != unix.EINTR {
			return 0, errno
		}
	}
}

// errnoOf is err's errno (x/sys's functions return one); EIO for anything else.
func errnoOf(err error) syscall.Errno {
	if errno, ok := err.(syscall.Errno); ok {
		return errno
	}
	return unix.EIO
}

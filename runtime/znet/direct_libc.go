//go:build darwin || openbsd

package znet

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// The adapters' direct socket calls (see direct_raw.go) on macOS and OpenBSD, which
// allow system calls only through libc: x/sys's Recvfrom and SendmsgN, which call it.
// On a connected stream socket recvfrom reports no source address, so Recvfrom
// decodes none.

// directIO is true where the adapters make these calls.
const directIO = true

// directRecv receives into p without waiting: n > 0 bytes, (0, 0) at EOF, or an
// errno (EAGAIN when nothing is there).
func directRecv(fd int, p []byte) (int, syscall.Errno) {
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

// directSend sends from p without waiting and returns how much the socket took, or
// an errno (EAGAIN when its buffer is full). A closed peer is EPIPE, not a signal:
// MSG_NOSIGNAL on OpenBSD, SO_NOSIGPIPE on every socket on macOS.
func directSend(fd int, p []byte) (int, syscall.Errno) {
	for {
		n, err := unix.SendmsgN(fd, p, nil, nil, unix.MSG_DONTWAIT|msgNoSignal)
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

const eAgain = unix.EAGAIN

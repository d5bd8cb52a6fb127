//go:build darwin || openbsd

package znet

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// The adapters' direct socket calls (see direct_raw.go) on macOS and OpenBSD, which
// allow system calls only through libc: x/sys's Recvfrom and SendmsgN, which call it
// (direct_xsys.go).

// directIO is true where the adapters make these calls.
const directIO = true

// directRecv receives into p without waiting: n > 0 bytes, (0, 0) at EOF, or an
// errno (EAGAIN when nothing is there).
func directRecv(fd int, p []byte) (int, syscall.Errno) { return xsysRecv(fd, p) }

// directSend sends from p without waiting and returns how much the socket took, or
// an errno (EAGAIN when its buffer is full). A closed peer is EPIPE, not a signal:
// MSG_NOSIGNAL on OpenBSD, SO_NOSIGPIPE on every socket on macOS.
func directSend(fd int, p []byte) (int, syscall.Errno) { return xsysSend(fd, p, msgNoSignal) }

const eAgain = unix.EAGAIN

//go:build linux || dragonfly || freebsd || netbsd

package znet

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/zokio/zokio/internal/rawsys"
)

// The adapters' direct socket calls. A NetConn's Read and Write first try the
// kernel on the calling goroutine's own thread, as Go's net package does, and go
// through the connection's loop only when the socket has nothing to give (EAGAIN):
// data that is there costs one system call and no round trip to the loop and back.
// With MSG_DONTWAIT a socket call never waits, so up to rawsys.MaxCopy bytes it is a
// raw system call (package rawsys); larger copies go through the scheduler.
//
// This file serves the systems that allow raw system calls; macOS and OpenBSD, which
// allow only libc, make the same calls through x/sys's functions (direct_libc.go).

// directIO is true where the adapters make these calls.
const directIO = true

// directRecv receives into p without waiting: n > 0 bytes, (0, 0) at EOF, or an
// errno (EAGAIN when nothing is there).
func directRecv(fd int, p []byte) (int, syscall.Errno) {
	// SAFETY: p is non-empty and stays referenced by the caller across the call.
	b := uintptr(unsafe.Pointer(unsafe.SliceData(p)))
	for {
		var r uintptr
		var errno syscall.Errno
		if len(p) <= rawsys.MaxCopy {
			r, _, errno = unix.RawSyscall6(unix.SYS_RECVFROM, uintptr(fd), b, uintptr(len(p)), unix.MSG_DONTWAIT, 0, 0)
		} else {
			r, _, errno = unix.Syscall6(unix.SYS_RECVFROM, uintptr(fd), b, uintptr(len(p)), unix.MSG_DONTWAIT, 0, 0)
		}
		if errno != unix.EINTR {
			return int(r), errno
		}
	}
}

// directSend sends from p without waiting and returns how much the socket took, or
// an errno (EAGAIN when its buffer is full). MSG_NOSIGNAL: a closed peer is EPIPE,
// not a signal.
func directSend(fd int, p []byte) (int, syscall.Errno) {
	// SAFETY: p is non-empty and stays referenced by the caller across the call.
	b := uintptr(unsafe.Pointer(unsafe.SliceData(p)))
	for {
		var r uintptr
		var errno syscall.Errno
		if len(p) <= rawsys.MaxCopy {
			r, _, errno = unix.RawSyscall6(unix.SYS_SENDTO, uintptr(fd), b, uintptr(len(p)), unix.MSG_DONTWAIT|msgNoSignal, 0, 0)
		} else {
			r, _, errno = unix.Syscall6(unix.SYS_SENDTO, uintptr(fd), b, uintptr(len(p)), unix.MSG_DONTWAIT|msgNoSignal, 0, 0)
		}
		if errno != unix.EINTR {
			return int(r), errno
		}
	}
}

const eAgain = unix.EAGAIN

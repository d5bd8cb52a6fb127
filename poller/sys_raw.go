//go:build linux || dragonfly || freebsd || netbsd

package poller

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/zokio/zokio/internal/rawsys"
)

// Syscalls the readiness core makes inline, on the systems that allow raw system calls
// (darwin and OpenBSD allow only libc: sys_libc.go). They go through
// unix.Syscall with raw pointers rather than x/sys's typed wrappers, which take a
// unix.Sockaddr interface or return one (an allocation per call); these allocate
// nothing.
//
// SAFETY (for every pointer below): it points into an op's buffers, an op's Sockaddr,
// or the loop's scratch, all of which the driver keeps referenced until the op's final
// completion; the call is synchronous, so the kernel is done with the memory when it
// returns. Each conversion to uintptr sits in the Syscall argument list, which keeps
// the referent alive and unmoved for the call.

func ioRead(fd int, p []byte) (int, syscall.Errno) {
	b := bufPtr(p)
	n, _, errno := unix.Syscall(unix.SYS_READ, uintptr(fd), uintptr(b), uintptr(len(p)))
	return int(n), errno
}

func ioWrite(fd int, p []byte) (int, syscall.Errno) {
	b := bufPtr(p)
	n, _, errno := unix.Syscall(unix.SYS_WRITE, uintptr(fd), uintptr(b), uintptr(len(p)))
	return int(n), errno
}

func ioReadv(fd int, iov []unix.Iovec) (int, syscall.Errno) {
	v := iovPtr(iov)
	n, _, errno := unix.Syscall(unix.SYS_READV, uintptr(fd), uintptr(v), uintptr(len(iov)))
	return int(n), errno
}

func ioWritev(fd int, iov []unix.Iovec) (int, syscall.Errno) {
	v := iovPtr(iov)
	n, _, errno := unix.Syscall(unix.SYS_WRITEV, uintptr(fd), uintptr(v), uintptr(len(iov)))
	return int(n), errno
}

// fileRW runs readv/writev, or preadv/pwritev at off unless off is -1. The system's
// preadvArgs (sys_preadv_*.go) names the call and lays out the offset words.
func fileRW(fd int, iov []unix.Iovec, off int64, write bool) (int, syscall.Errno) {
	if off == -1 {
		if write {
			return ioWritev(fd, iov)
		}
		return ioReadv(fd, iov)
	}
	v := iovPtr(iov)
	trap, a4, a5, a6 := preadvArgs(off, write)
	n, _, errno := unix.Syscall6(trap, uintptr(fd), uintptr(v), uintptr(len(iov)), a4, a5, a6)
	return int(n), errno
}

// The four socket calls below take MSG_ flags. With MSG_DONTWAIT, which the readiness
// core always passes, the call returns at once whatever mode the descriptor is in (a
// holder of the same open file description may have cleared O_NONBLOCK): it is a
// memory copy and some protocol work, never a wait. So up to rawsys.MaxCopy bytes it is
// a raw system call (see package rawsys); a loop makes one or two per message. Larger
// copies (a send can copy megabytes into a socket buffer) and calls without the flag go
// through the scheduler, as a call that may take long must.

// rawOK reports whether a socket call with these flags moving n bytes may be raw.
func rawOK(flags, n int) bool { return flags&unix.MSG_DONTWAIT != 0 && n <= rawsys.MaxCopy }

// msgLen is the number of bytes msg's iovecs describe.
func msgLen(msg *unix.Msghdr) int {
	n := 0
	for _, v := range unsafe.Slice(msg.Iov, msg.Iovlen) {
		n += int(v.Len)
	}
	return n
}

func ioRecv(fd int, p []byte, flags int) (int, syscall.Errno) {
	b := bufPtr(p)
	if rawOK(flags, len(p)) {
		n, _, errno := unix.RawSyscall6(unix.SYS_RECVFROM, uintptr(fd), uintptr(b), uintptr(len(p)),
			uintptr(flags), 0, 0)
		return int(n), errno
	}
	n, _, errno := unix.Syscall6(unix.SYS_RECVFROM, uintptr(fd), uintptr(b), uintptr(len(p)),
		uintptr(flags), 0, 0)
	return int(n), errno
}

func ioSend(fd int, p []byte, flags int) (int, syscall.Errno) {
	b := bufPtr(p)
	if rawOK(flags, len(p)) {
		n, _, errno := unix.RawSyscall6(unix.SYS_SENDTO, uintptr(fd), uintptr(b), uintptr(len(p)),
			uintptr(flags), 0, 0)
		return int(n), errno
	}
	n, _, errno := unix.Syscall6(unix.SYS_SENDTO, uintptr(fd), uintptr(b), uintptr(len(p)),
		uintptr(flags), 0, 0)
	return int(n), errno
}

func ioRecvmsg(fd int, msg *unix.Msghdr, flags int) (int, syscall.Errno) {
	if rawOK(flags, msgLen(msg)) {
		n, _, errno := unix.RawSyscall(unix.SYS_RECVMSG, uintptr(fd), uintptr(unsafe.Pointer(msg)), uintptr(flags))
		return int(n), errno
	}
	n, _, errno := unix.Syscall(unix.SYS_RECVMSG, uintptr(fd), uintptr(unsafe.Pointer(msg)), uintptr(flags))
	return int(n), errno
}

func ioSendmsg(fd int, msg *unix.Msghdr, flags int) (int, syscall.Errno) {
	if rawOK(flags, msgLen(msg)) {
		n, _, errno := unix.RawSyscall(unix.SYS_SENDMSG, uintptr(fd), uintptr(unsafe.Pointer(msg)), uintptr(flags))
		return int(n), errno
	}
	n, _, errno := unix.Syscall(unix.SYS_SENDMSG, uintptr(fd), uintptr(unsafe.Pointer(msg)), uintptr(flags))
	return int(n), errno
}

func ioConnect(fd int, sa *Sockaddr) syscall.Errno {
	_, _, errno := unix.Syscall(unix.SYS_CONNECT, uintptr(fd), uintptr(unsafe.Pointer(&sa.Raw[0])),
		uintptr(sa.Len))
	return errno
}

// offsetWords splits a 64-bit offset into the words a system call takes: the offset
// itself on a 64-bit system (the second word is then 0 and unused), low then high on
// a 32-bit one. The shift is done in two steps, as x/sys does, to keep vet quiet.
func offsetWords(off int64) (lo, hi uintptr) {
	const longBits = 8 * unsafe.Sizeof(uintptr(0))
	return uintptr(off), uintptr(uint64(off) >> (longBits - 1) >> 1)
}

// bufPtr returns the address of p's first byte, or nil for an empty p.
func bufPtr(p []byte) unsafe.Pointer {
	if len(p) == 0 {
		return nil
	}
	return unsafe.Pointer(&p[0])
}

// iovPtr returns the address of the first iovec, or nil.
func iovPtr(iov []unix.Iovec) unsafe.Pointer {
	if len(iov) == 0 {
		return nil
	}
	return unsafe.Pointer(&iov[0])
}

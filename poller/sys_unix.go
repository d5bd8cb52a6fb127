//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package poller

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/zokio/zokio/internal/rawsys"
)

// Syscalls the readiness core makes inline, shared by every Unix. They go through
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

// ioSockError returns a finished non-blocking connect's error (SO_ERROR), clearing it.
func ioSockError(fd int) syscall.Errno {
	v, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if err != nil {
		return toErrno(err)
	}
	return syscall.Errno(v)
}

// ioPoll reports fd's current readiness without blocking. pfd is the loop's scratch.
func ioPoll(fd int, events int16, pfd *[1]unix.PollFd) (int16, syscall.Errno) {
	pfd[0] = unix.PollFd{Fd: int32(fd), Events: events}
	for {
		_, err := unix.Poll(pfd[:], 0)
		if err == nil {
			return pfd[0].Revents, 0
		}
		if err != unix.EINTR {
			return 0, toErrno(err)
		}
	}
}

// classify learns how to drive fd (fstat) and, for a descriptor driven by readiness,
// puts it in non-blocking mode, as Go's net package and libuv do. The mode belongs to
// the open file description, so other holders of it see the change too.
func classify(fd int, st *unix.Stat_t) (fdKind, syscall.Errno) {
	if err := unix.Fstat(fd, st); err != nil {
		return kindUnknown, toErrno(err)
	}
	k := kindFromMode(uint32(st.Mode))
	if k == kindPoll && isStream(fd, uint32(st.Mode)) {
		k = kindStream
	}
	if k.readiness() {
		fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
		if err == nil && fl&unix.O_NONBLOCK == 0 {
			_, err = unix.FcntlInt(uintptr(fd), unix.F_SETFL, fl|unix.O_NONBLOCK)
		}
		if err != nil {
			return kindUnknown, toErrno(err)
		}
	}
	return k, 0
}

// isStream reports whether a readiness-driven descriptor is a byte stream.
func isStream(fd int, mode uint32) bool {
	switch mode & unix.S_IFMT {
	case unix.S_IFIFO:
		return true
	case unix.S_IFSOCK:
		typ, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TYPE)
		return err == nil && typ == unix.SOCK_STREAM
	}
	return false
}

func kindFromMode(mode uint32) fdKind {
	switch mode & unix.S_IFMT {
	case unix.S_IFREG, unix.S_IFBLK, unix.S_IFDIR:
		return kindFile
	}
	return kindPoll
}

// closeRes closes fd and returns the result for OpClose. EINTR counts as success:
// the descriptor is released anyway, and a retry could close a reused number.
func closeRes(fd int) int32 {
	if err := unix.Close(fd); err != nil && err != unix.EINTR {
		return errRes(err)
	}
	return 0
}

// toErrno returns err's errno; x/sys returns nothing else, but a surprise becomes EIO
// rather than a panic.
func toErrno(err error) syscall.Errno {
	if errno, ok := err.(syscall.Errno); ok {
		return errno
	}
	return unix.EIO
}

// errRes turns an error from x/sys into a result: 0 or a negated errno.
func errRes(err error) int32 {
	if err == nil {
		return 0
	}
	return -int32(toErrno(err))
}

//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package poller

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// Syscalls of the readiness core shared by every Unix; the inline I/O calls are in
// sys_raw.go (raw system calls) and sys_libc.go (darwin and OpenBSD, through libc).

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
	if uint32(st.Mode)&unix.S_IFMT == unix.S_IFSOCK {
		sockInit(fd)
	}
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

//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package poller

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// BSD and macOS versions of the syscalls that differ from Linux, so that the readiness
// core builds for the kqueue driver. TODO(kqueue): exercise and complete these
// (statx, fallocate, preadv, renameat flags, MSG_NOSIGNAL on darwin) when the kqueue
// driver lands with its conformance run; until then they are compile-checked only.

// PollRdHup (args_bsd.go) is the bit the kqueue driver reports for EV_EOF on the read
// filter.
const msgNoSignal = 0

// ioAccept accepts one connection and makes it non-blocking and close-on-exec
// (no accept4 on darwin).
func ioAccept(fd int, sa *Sockaddr, flags int) (int, syscall.Errno) {
	var name, namelen unsafe.Pointer
	if sa != nil {
		sa.Len = uint32(len(sa.Raw))
		name, namelen = unsafe.Pointer(&sa.Raw[0]), unsafe.Pointer(&sa.Len)
	}
	nfd, _, errno := unix.Syscall(unix.SYS_ACCEPT, uintptr(fd), uintptr(name), uintptr(namelen))
	if errno != 0 {
		return -1, errno
	}
	unix.CloseOnExec(int(nfd))
	if err := unix.SetNonblock(int(nfd), true); err != nil {
		unix.Close(int(nfd))
		return -1, toErrno(err)
	}
	return int(nfd), 0
}

func fileRW(fd int, iov []unix.Iovec, off int64, write bool) (int, syscall.Errno) {
	if off != -1 {
		return 0, unix.ENOSYS
	}
	v := iovPtr(iov)
	trap := uintptr(unix.SYS_READV)
	if write {
		trap = unix.SYS_WRITEV
	}
	n, _, errno := unix.Syscall(trap, uintptr(fd), uintptr(v), uintptr(len(iov)))
	return int(n), errno
}

func fileFsync(fd int, datasync bool) int32 { return errRes(unix.Fsync(fd)) }

func fileFallocate(op *Op) int32 { return -int32(unix.ENOSYS) }

func fileStatx(op *Op) int32 { return -int32(unix.ENOSYS) }

func fileRenameat(op *Op) int32 {
	if op.Arg != 0 {
		return -int32(unix.EINVAL)
	}
	return errRes(unix.Renameat(op.Fd, op.Path, op.Fd2, op.Path2))
}

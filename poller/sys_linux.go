package poller

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Linux-only syscalls of the readiness core. SAFETY notes as in sys_unix.go.

const msgNoSignal = unix.MSG_NOSIGNAL // EPIPE instead of SIGPIPE, as io_uring's send does

// sockInit prepares a socket the core drives; Linux needs nothing (MSG_NOSIGNAL).
func sockInit(fd int) {}

// ioAccept accepts one connection with accept4, always non-blocking (the driver
// drives the new descriptor by readiness) plus the caller's SOCK_ flags. sa, if not
// nil, receives the peer address and its length.
func ioAccept(fd int, sa *Sockaddr, flags int) (int, syscall.Errno) {
	var name, namelen unsafe.Pointer
	if sa != nil {
		sa.Len = uint32(len(sa.Raw))
		name, namelen = unsafe.Pointer(&sa.Raw[0]), unsafe.Pointer(&sa.Len)
	}
	nfd, _, errno := unix.Syscall6(unix.SYS_ACCEPT4, uintptr(fd), uintptr(name), uintptr(namelen),
		uintptr(flags|unix.SOCK_NONBLOCK), 0, 0)
	return int(nfd), errno
}

func fileFsync(fd int, datasync bool) int32 {
	if datasync {
		return errRes(unix.Fdatasync(fd))
	}
	return errRes(unix.Fsync(fd))
}

func fileFallocate(op *Op) int32 {
	return errRes(unix.Fallocate(op.Fd, op.Arg, op.Offset, op.Len))
}

// Statx writes exactly StatxSize bytes.
var _ [StatxSize - unsafe.Sizeof(unix.Statx_t{})]byte

func fileStatx(op *Op) int32 {
	// SAFETY: Validate checked that Buf holds at least StatxSize (the size of
	// unix.Statx_t) bytes and is 8-byte aligned; the op owns Buf until it completes.
	st := (*unix.Statx_t)(unsafe.Pointer(&op.Buf[0]))
	return errRes(unix.Statx(op.Fd, op.Path, int(op.Arg), int(op.Mode), st))
}

func fileRenameat(op *Op) int32 {
	return errRes(unix.Renameat2(op.Fd, op.Path, op.Fd2, op.Path2, uint(op.Arg)))
}

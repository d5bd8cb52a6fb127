package uring

import (
	"errors"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// kernel is every way the package reaches the kernel for a ring. Tests wrap
// the real implementation to inject faults (EINTR, EAGAIN, short submits,
// failed mappings); the zero Config uses sysKernel.
//
// Errors are raw errnos (0 for success) so that the hot path never boxes an
// error it does not return.
type kernel interface {
	setup(entries uint32, p *Params) (fd int, errno syscall.Errno)
	enter(fd int, toSubmit, minComplete uint32, flags EnterFlags, arg unsafe.Pointer, argSize uintptr) (int, syscall.Errno)
	register(fd int, op RegisterOp, arg unsafe.Pointer, nrArgs uint32) (int, syscall.Errno)
	// mmap maps length bytes read-write: shared at offset of fd, or
	// private anonymous memory when fd is -1.
	mmap(fd int, offset int64, length uintptr) (unsafe.Pointer, syscall.Errno)
	munmap(addr unsafe.Pointer, length uintptr) syscall.Errno
}

// sysKernel is the real kernel.
type sysKernel struct{}

var _ kernel = sysKernel{}

func (sysKernel) setup(entries uint32, p *Params) (int, syscall.Errno) {
	// SAFETY: p is a live *Params for the duration of the call; the kernel
	// copies it in and out before returning.
	fd, _, e := unix.Syscall(unix.SYS_IO_URING_SETUP, uintptr(entries), uintptr(unsafe.Pointer(p)), 0)
	return int(fd), e
}

func (sysKernel) enter(fd int, toSubmit, minComplete uint32, flags EnterFlags, arg unsafe.Pointer, argSize uintptr) (int, syscall.Errno) {
	// SAFETY: arg is nil or points into the Ring (a heap object, which does
	// not move), kept alive by the caller's receiver until the call returns.
	// Syscall6, not RawSyscall6: the wait may block for a long time and the
	// Go scheduler must hand the P to another thread meanwhile.
	n, _, e := unix.Syscall6(unix.SYS_IO_URING_ENTER, uintptr(fd), uintptr(toSubmit),
		uintptr(minComplete), uintptr(flags), uintptr(arg), argSize)
	return int(n), e
}

func (sysKernel) register(fd int, op RegisterOp, arg unsafe.Pointer, nrArgs uint32) (int, syscall.Errno) {
	// SAFETY: arg points to memory the caller keeps alive across the call;
	// the kernel reads or fills it before returning.
	n, _, e := unix.Syscall6(unix.SYS_IO_URING_REGISTER, uintptr(fd), uintptr(op),
		uintptr(arg), uintptr(nrArgs), 0, 0)
	return int(n), e
}

func (sysKernel) mmap(fd int, offset int64, length uintptr) (unsafe.Pointer, syscall.Errno) {
	flags := unix.MAP_SHARED | unix.MAP_POPULATE
	if fd < 0 {
		flags = unix.MAP_PRIVATE | unix.MAP_ANONYMOUS | unix.MAP_POPULATE
	}
	// MmapPtr, not Mmap: the mapping is owned by a Ring, not by x/sys's
	// slice registry, and its pointer never enters the Go heap.
	p, err := unix.MmapPtr(fd, offset, nil, length, unix.PROT_READ|unix.PROT_WRITE, flags)
	return p, errnoOf(err)
}

func (sysKernel) munmap(addr unsafe.Pointer, length uintptr) syscall.Errno {
	return errnoOf(unix.MunmapPtr(addr, length))
}

// errnoOf recovers the errno x/sys returns boxed; anything else (it returns
// nothing else) reads as EINVAL rather than being lost.
func errnoOf(err error) syscall.Errno {
	if err == nil {
		return 0
	}
	var e syscall.Errno
	if errors.As(err, &e) {
		return e
	}
	return syscall.EINVAL
}

// errOrNil boxes a non-zero errno. Errno values are small integers, which
// the runtime boxes without allocating.
func errOrNil(e syscall.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}

package uring

import (
	"os"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Register makes a raw io_uring_register(2) call, for opcodes this package
// has no method for. arg must point to memory that stays alive across the
// call (and longer if the kernel keeps the address). The error is a
// *os.SyscallError.
func (r *Ring) Register(op RegisterOp, arg unsafe.Pointer, nrArgs uint32) (int, error) {
	return r.registerErr(op, arg, nrArgs)
}

// registerErr is the one path to io_uring_register; registration is not a
// hot path, so errors get the standard library's shape.
func (r *Ring) registerErr(op RegisterOp, arg unsafe.Pointer, nrArgs uint32) (int, error) {
	if r.closed {
		return 0, os.ErrClosed
	}
	fd := r.fd
	if r.enterFl&EnterRegisteredRing != 0 && r.params.Features&FeatRegRegRing != 0 {
		// The registered index saves the kernel an fd table lookup.
		fd, op = r.enterFd, op|RegisterUseRegisteredRing
	}
	n, e := r.k.register(fd, op, arg, nrArgs)
	if e != 0 {
		return 0, os.NewSyscallError("io_uring_register", e)
	}
	return n, nil
}

// RegisterBuffers registers bufs as fixed buffers 0..len(bufs)-1 for
// PrepReadFixed and PrepWriteFixed. The kernel pins their pages, which
// counts against RLIMIT_MEMLOCK (ENOMEM past it). The caller keeps every
// buffer referenced until UnregisterBuffers or Close: the kernel writes to
// the pages whether or not Go still uses the memory.
func (r *Ring) RegisterBuffers(bufs [][]byte) error {
	if len(bufs) == 0 {
		return os.NewSyscallError("io_uring_register", unix.EINVAL)
	}
	iov := make([]unix.Iovec, len(bufs))
	for i, b := range bufs {
		iov[i].Base = unsafe.SliceData(b)
		iov[i].SetLen(len(b))
	}
	// SAFETY: iov and the buffers it names are live Go memory for the
	// duration of the call; the kernel pins the buffers' pages.
	_, err := r.registerErr(RegisterBuffers, unsafe.Pointer(&iov[0]), uint32(len(iov)))
	runtime.KeepAlive(iov)
	return err
}

// UnregisterBuffers drops every registered buffer: the whole table, whether
// RegisterBuffers or RegisterBuffersSparse made it.
func (r *Ring) UnregisterBuffers() error {
	_, err := r.registerErr(UnregisterBuffers, nil, 0)
	return err
}

// RegisterBuffersSparse creates a registered buffer table of n empty slots
// (IORING_REGISTER_BUFFERS2 with IORING_RSRC_REGISTER_SPARSE), filled and
// emptied one slot at a time by RegisterBuffersUpdate while the ring runs.
// An empty table pins nothing, so it costs no RLIMIT_MEMLOCK; the kernel
// allows up to 16384 slots. A ring has one buffer table: EBUSY if
// RegisterBuffers or this call already made it.
func (r *Ring) RegisterBuffersSparse(n uint32) error {
	reg := RsrcRegister{Nr: n, Flags: rsrcRegisterSparse}
	// SAFETY: reg is live for the call; the kernel copies it in.
	_, err := r.registerErr(RegisterBuffers2, unsafe.Pointer(&reg), uint32(unsafe.Sizeof(reg)))
	return err
}

// RegisterBuffersUpdate sets the registered buffer slots from off on to
// bufs (IORING_REGISTER_BUFFERS_UPDATE): a non-empty buffer is pinned and
// installed in its slot, replacing what was there; an empty one (nil or of
// length zero) empties its slot. The pins count against RLIMIT_MEMLOCK
// (ENOMEM past it), and each buffer may be at most 1 GiB. Ops already in
// flight on a replaced or emptied buffer keep using it until they complete.
// As with RegisterBuffers, the caller keeps every installed buffer
// referenced until its slot is emptied or the ring closes. It returns the
// number of slots updated, which falls short of len(bufs) (with a nil
// error) when one after the first fails; ENXIO without a table, EINVAL for
// slots past its end.
func (r *Ring) RegisterBuffersUpdate(off uint32, bufs [][]byte) (int, error) {
	if len(bufs) == 0 {
		return 0, nil
	}
	iov := make([]unix.Iovec, len(bufs))
	for i, b := range bufs {
		if len(b) > 0 {
			iov[i].Base = unsafe.SliceData(b)
			iov[i].SetLen(len(b))
		}
	}
	up := RsrcUpdate2{Offset: off, Data: ptr(&iov[0]), Nr: uint32(len(iov))}
	// SAFETY: up, iov and the buffers iov names are live for the call; the
	// kernel reads up and iov before returning and pins the buffers' pages.
	n, err := r.registerErr(RegisterBuffersUpdate, unsafe.Pointer(&up), uint32(unsafe.Sizeof(up)))
	runtime.KeepAlive(iov)
	runtime.KeepAlive(bufs)
	return n, err
}

// RegisterFilesSparse creates a registered file table of n empty slots,
// filled by RegisterFilesUpdate or by operations given a FileIndex.
func (r *Ring) RegisterFilesSparse(n uint32) error {
	reg := RsrcRegister{Nr: n, Flags: rsrcRegisterSparse}
	// SAFETY: reg is live for the call; the kernel copies it in.
	_, err := r.registerErr(RegisterFiles2, unsafe.Pointer(&reg), uint32(unsafe.Sizeof(reg)))
	return err
}

// RegisterFilesUpdate installs fds in the registered file table from slot
// off on: -1 empties a slot, RegisterFilesSkip leaves it. The table holds
// its own reference to each file, so the caller may close its fds after.
// It returns the number of slots updated.
func (r *Ring) RegisterFilesUpdate(off uint32, fds []int32) (int, error) {
	if len(fds) == 0 {
		return 0, nil
	}
	up := RsrcUpdate{Offset: off, Data: ptr(&fds[0])}
	// SAFETY: up and fds are live for the call; the kernel reads both
	// before returning.
	n, err := r.registerErr(RegisterFilesUpdate, unsafe.Pointer(&up), uint32(len(fds)))
	runtime.KeepAlive(fds)
	return n, err
}

// UnregisterFiles drops the registered file table.
func (r *Ring) UnregisterFiles() error {
	_, err := r.registerErr(UnregisterFiles, nil, 0)
	return err
}

// RegisterEventfd makes the kernel signal eventfd fd on every posted CQE,
// so a ring can be waited on from epoll or another loop.
func (r *Ring) RegisterEventfd(fd int) error {
	v := int32(fd)
	// SAFETY: v is live for the call; the kernel copies it in.
	_, err := r.registerErr(RegisterEventfd, unsafe.Pointer(&v), 1)
	return err
}

// UnregisterEventfd removes the eventfd set by RegisterEventfd.
func (r *Ring) UnregisterEventfd() error {
	_, err := r.registerErr(UnregisterEventfd, nil, 0)
	return err
}

// Probe asks the kernel which opcodes it supports.
func (r *Ring) Probe() (*Probe, error) {
	p := new(Probe)
	// SAFETY: p is live for the call; the kernel fills it in.
	if _, err := r.registerErr(RegisterProbe, unsafe.Pointer(p), probeOpsMax); err != nil {
		return nil, err
	}
	return p, nil
}

// RegisterRingFd registers the ring fd with the calling thread, so that
// io_uring_enter skips the fd table lookup. The registration belongs to the
// OS thread, not the goroutine: the caller must have called
// runtime.LockOSThread and must stay on that thread for every later call,
// Close included; on another thread the index is invalid, or worse, names
// another ring. Close undoes it (from the same thread).
func (r *Ring) RegisterRingFd() error {
	if r.enterFl&EnterRegisteredRing != 0 {
		return os.NewSyscallError("io_uring_register", unix.EEXIST)
	}
	up := RsrcUpdate{Offset: ^uint32(0), Data: uint64(r.fd)} // any free index
	// SAFETY: up is live for the call; the kernel writes the chosen index
	// back into it.
	if _, err := r.registerErr(RegisterRingFds, unsafe.Pointer(&up), 1); err != nil {
		return err
	}
	r.enterFd, r.enterFl, r.regTid = int(up.Offset), EnterRegisteredRing, unix.Gettid()
	return nil
}

// unregisterRingFd undoes RegisterRingFd; it must run on the registering
// thread, and says so otherwise rather than unregistering another ring.
func (r *Ring) unregisterRingFd() error {
	if r.enterFl&EnterRegisteredRing == 0 {
		return nil
	}
	if tid := unix.Gettid(); tid != r.regTid {
		r.enterFd, r.enterFl = r.fd, 0
		return os.NewSyscallError("io_uring_register", unix.EXDEV)
	}
	up := RsrcUpdate{Offset: uint32(r.enterFd)}
	// SAFETY: up is live for the call. The raw fd is used: the registered
	// index is the thing being removed.
	_, e := r.k.register(r.fd, UnregisterRingFds, unsafe.Pointer(&up), 1)
	r.enterFd, r.enterFl = r.fd, 0
	if e != 0 {
		return os.NewSyscallError("io_uring_register", e)
	}
	return nil
}

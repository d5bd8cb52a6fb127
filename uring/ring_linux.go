package uring

import (
	"errors"
	"fmt"
	"math"
	"os"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Config describes a ring to set up. The zero value, with Entries set, is a
// plain interrupt-driven ring with a kernel-sized CQ.
type Config struct {
	// Entries is the SQ size, rounded up to a power of two by the kernel.
	// Too large fails with EINVAL unless Flags has SetupClamp.
	Entries uint32
	// CQEntries sizes the CQ; 0 leaves the kernel default (twice Entries).
	// A non-zero value sets SetupCQSize; it must be at least Entries.
	CQEntries uint32
	// Flags are passed to io_uring_setup. SetupDeferTaskrun implies
	// SetupTaskrunFlag: New adds it, so that PeekCQEs can tell when
	// deferred completions wait to be run (see Ring.Flags).
	Flags SetupFlags
	// SQThreadCPU is the CPU the SQ thread is pinned to. It is used only
	// when Flags has SetupSQAff (with SetupSQPoll), because 0 is both the
	// zero value and a valid CPU; New does not set the flag itself.
	SQThreadCPU int
	// SQThreadIdle is how long the SQ thread spins without work before it
	// sleeps and sets SQRingNeedWakeup; 0 is the kernel default (one
	// second). The kernel counts milliseconds; shorter values round up.
	SQThreadIdle time.Duration
	// AttachWQ, when non-zero, is the fd of a ring whose SQ thread and
	// async workers this ring shares; New sets SetupAttachWQ.
	AttachWQ int

	// kernel replaces the system calls in tests; nil is the real kernel.
	kernel kernel
}

// Ring is one io_uring instance: its fd, the mapped SQ and CQ rings and the
// SQE array.
//
// A Ring is used only by the goroutine that owns it (for SetupSingleIssuer
// and SetupDeferTaskrun rings, only on the OS thread that created it); it is
// not safe for concurrent use, and must not be copied after New.
type Ring struct {
	_       noCopy
	k       kernel
	direct  bool // k is the real kernel: enter calls it without the interface
	fd      int
	enterFd int        // fd, or the registered ring index after RegisterRingFd
	enterFl EnterFlags // EnterRegisteredRing after RegisterRingFd
	regTid  int        // thread that registered the ring fd
	params  Params
	sq      submissionQueue
	cq      completionQueue
	maps    [3]mapping // SQ ring (shared with the CQ ring on FeatSingleMmap), CQ ring, SQEs
	bufs    []*BufRing // live provided buffer rings, freed by Close
	stats   Stats
	// alwaysEnter is set for IOPOLL rings without an SQ thread: nothing
	// completes unless the owner enters to poll.
	alwaysEnter bool
	// The EnterExtArg argument of SubmitAndWait and its timespec live in
	// the Ring, a heap object that does not move, so that the kernel can
	// read them without a per-call allocation.
	waitArg GetEventsArg
	waitTS  Timespec
	closed  bool
}

// submissionQueue is the application's view of the SQ ring.
//
// Every word the kernel shares with us is read and written with sync/atomic.
// Go's atomics are sequentially consistent, at least as strong as the
// acquire and release orderings the comments at each use name (which are
// those of liburing and of the kernel's own barriers).
type submissionQueue struct {
	khead    *atomic.Uint32 // written by the kernel as it consumes SQEs
	ktail    *atomic.Uint32 // written by us to publish SQEs
	kflags   *atomic.Uint32 // SQRingFlags, written by the kernel
	kdropped *atomic.Uint32 // invalid SQEs the kernel skipped
	sqes     []SQE
	mask     uint32
	entries  uint32
	tail     uint32 // next free SQE; SQEs in [published, tail) are being prepared
	pub      uint32 // the last tail stored to ktail
}

// completionQueue is the application's view of the CQ ring.
type completionQueue struct {
	khead     *atomic.Uint32 // written by us as we consume CQEs
	ktail     *atomic.Uint32 // written by the kernel to publish CQEs
	koverflow *atomic.Uint32 // CQEs the kernel had to drop
	cqes      []CQE
	mask      uint32
	entries   uint32
	head      uint32 // our copy of khead; we are its only writer
}

// mapping is one mmap of the ring fd.
type mapping struct {
	addr   unsafe.Pointer
	length uintptr
}

// noCopy makes `go vet` report copies of a Ring (copylocks check).
type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}

// New sets up a ring and maps it. On failure it undoes whatever it did and
// returns nil and an error: a *os.SyscallError wrapping the errno for kernel
// failures (errors.Is(err, unix.EPERM) holds where io_uring is disabled), or
// an error wrapping errors.ErrUnsupported for flags this binding does not
// handle.
func New(cfg Config) (*Ring, error) {
	k := cfg.kernel
	if k == nil {
		k = sysKernel{}
	}
	p, err := cfg.params()
	if err != nil {
		return nil, err
	}
	fd, e := k.setup(cfg.Entries, &p)
	if e != 0 {
		return nil, os.NewSyscallError("io_uring_setup", e)
	}
	_, real := k.(sysKernel)
	r := &Ring{k: k, direct: real, fd: fd, enterFd: fd, params: p}
	if err := r.mapRings(); err != nil {
		r.unmapAll()
		unix.Close(fd)
		return nil, err
	}
	r.initQueues()
	return r, nil
}

// params translates the Config into the setup request.
func (c *Config) params() (Params, error) {
	if bad := c.Flags & unsupportedSetup; bad != 0 {
		return Params{}, fmt.Errorf("uring: setup flags %#x: %w", uint32(bad), errors.ErrUnsupported)
	}
	p := Params{Flags: c.Flags}
	if c.CQEntries != 0 {
		p.Flags |= SetupCQSize
		p.CQEntries = c.CQEntries
	}
	if p.Flags&SetupSQAff != 0 {
		if c.SQThreadCPU < 0 || c.SQThreadCPU > math.MaxInt32 {
			return Params{}, os.NewSyscallError("io_uring_setup", unix.EINVAL)
		}
		p.SQThreadCPU = uint32(c.SQThreadCPU)
	}
	if c.SQThreadIdle > 0 {
		ms := (c.SQThreadIdle + time.Millisecond - 1) / time.Millisecond
		p.SQThreadIdle = uint32(min(ms, math.MaxUint32))
	}
	if c.AttachWQ != 0 {
		p.Flags |= SetupAttachWQ
		p.WQFd = uint32(c.AttachWQ)
	}
	if p.Flags&SetupDeferTaskrun != 0 {
		p.Flags |= SetupTaskrunFlag
	}
	return p, nil
}

// mapRings maps the SQ ring, the CQ ring (the same mapping with
// FeatSingleMmap) and the SQE array.
func (r *Ring) mapRings() error {
	p := &r.params
	sqSize := uintptr(p.SQOff.Array) + uintptr(p.SQEntries)*unsafe.Sizeof(uint32(0))
	cqSize := uintptr(p.CQOff.CQEs) + uintptr(p.CQEntries)*unsafe.Sizeof(CQE{})
	// The SQ control words precede the array; with SetupNoSQArray the
	// kernel reports no array offset, so size the mapping by them too.
	sqSize = max(sqSize, uintptr(p.SQOff.Dropped)+4)
	if p.Features&FeatSingleMmap != 0 {
		sqSize = max(sqSize, cqSize)
	}
	if err := r.mapOne(0, offSQRing, sqSize); err != nil {
		return err
	}
	if p.Features&FeatSingleMmap == 0 {
		if err := r.mapOne(1, offCQRing, cqSize); err != nil {
			return err
		}
	}
	return r.mapOne(2, offSQEs, uintptr(p.SQEntries)*unsafe.Sizeof(SQE{}))
}

func (r *Ring) mapOne(i int, off int64, length uintptr) error {
	addr, e := r.k.mmap(r.fd, off, length)
	if e != 0 {
		return os.NewSyscallError("mmap", e)
	}
	r.maps[i] = mapping{addr: addr, length: length}
	return nil
}

// unmapAll releases every mapping made so far; it is safe on a partly
// mapped ring.
func (r *Ring) unmapAll() {
	for i := range r.maps {
		if m := r.maps[i]; m.addr != nil {
			r.k.munmap(m.addr, m.length)
			r.maps[i] = mapping{}
		}
	}
}

// initQueues points the queue views into the mappings.
func (r *Ring) initQueues() {
	p := &r.params
	sqBase, cqBase := r.maps[0].addr, r.maps[1].addr
	if cqBase == nil {
		cqBase = sqBase
	}
	r.initSQ(sqBase)
	r.initCQ(cqBase)
	r.alwaysEnter = p.Flags&(SetupIOPoll|SetupSQPoll) == SetupIOPoll
}

// initSQ points the SQ view into the SQ ring mapping at sqBase.
func (r *Ring) initSQ(sqBase unsafe.Pointer) {
	p := &r.params
	sq := &r.sq
	sq.khead = word(sqBase, p.SQOff.Head)
	sq.ktail = word(sqBase, p.SQOff.Tail)
	sq.kflags = word(sqBase, p.SQOff.Flags)
	sq.kdropped = word(sqBase, p.SQOff.Dropped)
	// load: the kernel wrote the mask and size words before setup
	// returned; they never change.
	sq.mask = word(sqBase, p.SQOff.RingMask).Load()
	sq.entries = word(sqBase, p.SQOff.RingEntries).Load()
	// SAFETY: the SQE mapping holds exactly SQEntries 64-byte SQEs and
	// lives until Close, after which sqes is cleared.
	sq.sqes = unsafe.Slice((*SQE)(r.maps[2].addr), p.SQEntries)
	// load-acquire: pairs with the kernel's store of the initial head (0).
	sq.tail = sq.khead.Load()
	sq.pub = sq.tail
	if p.Flags&SetupNoSQArray == 0 {
		// SAFETY: the index array lies inside the SQ ring mapping, at the
		// offset and with the length the kernel reported.
		array := unsafe.Slice((*uint32)(unsafe.Add(sqBase, p.SQOff.Array)), p.SQEntries)
		// Identity map SQ slots to SQEs once, so the array is never
		// touched again; the kernel reads it only after a tail store,
		// which orders these writes before it.
		for i := range array {
			array[i] = uint32(i)
		}
	}
}

// initCQ points the CQ view into the CQ ring mapping at cqBase.
func (r *Ring) initCQ(cqBase unsafe.Pointer) {
	p := &r.params
	cq := &r.cq
	cq.khead = word(cqBase, p.CQOff.Head)
	cq.ktail = word(cqBase, p.CQOff.Tail)
	cq.koverflow = word(cqBase, p.CQOff.Overflow)
	// load: written before setup returned, never changed.
	cq.mask = word(cqBase, p.CQOff.RingMask).Load()
	cq.entries = word(cqBase, p.CQOff.RingEntries).Load()
	// SAFETY: the CQE array lies inside the CQ ring mapping, at the
	// offset and with the length the kernel reported.
	cq.cqes = unsafe.Slice((*CQE)(unsafe.Add(cqBase, p.CQOff.CQEs)), p.CQEntries)
	// load-acquire: pairs with the kernel's store of the initial head (0);
	// from here on we are the only writer.
	cq.head = cq.khead.Load()
}

// word returns the kernel-shared 32-bit word at off in a ring mapping.
func word(base unsafe.Pointer, off uint32) *atomic.Uint32 {
	// SAFETY: off comes from the kernel's ring offsets, is 4-byte aligned
	// and lies inside the mapping, which outlives every use (Close clears
	// the queue views before unmapping).
	return (*atomic.Uint32)(unsafe.Add(base, off))
}

// Close releases the buffer rings still set up, unmaps the rings and closes
// the fd. A second Close returns nil.
//
// Close does not wait for operations in flight: the kernel cancels them
// while it tears the ring down, after Close has returned, and until then it
// may still write to their buffers. A caller that wants its memory back
// cancels everything first (PrepCancel with CancelAny|CancelAll) and reaps
// every final CQE, then closes.
func (r *Ring) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	for _, b := range r.bufs {
		b.release()
	}
	r.bufs = nil
	err := r.unregisterRingFd()
	r.sq = submissionQueue{}
	r.cq = completionQueue{}
	r.unmapAll()
	if cerr := unix.Close(r.fd); cerr != nil && err == nil {
		err = os.NewSyscallError("close", cerr)
	}
	r.fd = -1
	return err
}

// Fd returns the ring's file descriptor, for AttachWQ, OpMsgRing targets
// and polling the ring itself. It is -1 after Close.
func (r *Ring) Fd() int { return r.fd }

// Params returns the setup parameters as the kernel filled them in.
func (r *Ring) Params() Params { return r.params }

// Features returns the features the kernel reported at setup.
func (r *Ring) Features() FeatureFlags { return r.params.Features }

// Flags returns the setup flags in effect, including those New added.
func (r *Ring) Flags() SetupFlags { return r.params.Flags }

// SQEntries returns the SQ size the kernel chose.
func (r *Ring) SQEntries() uint32 { return r.params.SQEntries }

// CQEntries returns the CQ size the kernel chose.
func (r *Ring) CQEntries() uint32 { return r.params.CQEntries }

// Enable starts a ring set up with SetupRDisabled; until then every submit
// fails with EBADFD. With SetupSingleIssuer the calling thread becomes the
// ring's submitter.
func (r *Ring) Enable() error {
	_, err := r.registerErr(RegisterEnableRings, nil, 0)
	return err
}

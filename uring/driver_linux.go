package uring

import (
	"time"

	"golang.org/x/sys/unix"

	"github.com/zokio/zokio/poller"
)

// Driver implements poller.Driver on one io_uring instance.
//
// A Driver is used only by the goroutine that created it, except Wake, which is safe
// for concurrent use by multiple goroutines. With SetupSingleIssuer or
// SetupDeferTaskrun in DriverConfig.Flags, that goroutine must have called
// runtime.LockOSThread before NewDriver and keep the thread locked until Close.
//
// Every op in flight is referenced from the driver's slot table until its final
// completion; user_data carries the slot index and a generation, never a pointer, so a
// stale completion is recognised and dropped.
type Driver struct {
	ring   *Ring
	cfg    DriverConfig
	feat   poller.Features
	probe  *Probe
	slots  slotTable
	cqes   []CQE
	wake   waker
	groups []*bufGroup
	// noIncBufs: buffer groups take whole buffers (DriverConfig.WholeBuffers, or
	// the kernel refused incremental consumption).
	noIncBufs bool

	// pend holds accepted ops that have no SQE yet: an open link chain, or ops that
	// did not fit a full submission queue. chainSQEs counts the SQEs the open chain
	// needs, so that a chain never exceeds the queue.
	pend      []int32
	chainSQEs uint32
	// chainCut is set when a member of the open chain was cancelled before it reached
	// the kernel: the ops still to join that chain complete with ECANCELED, as after a
	// failed link, up to the one that ends it.
	chainCut bool
	// ready holds ops whose result is known without the kernel (cancelled before
	// submission, submitted on a descriptor being closed); Wait delivers them.
	ready []int32
	// deferred holds completions pulled out of the ring to make room while the kernel
	// refused submissions; the next Wait dispatches them.
	deferred []CQE

	// fdRefs counts the ops in flight on each descriptor below denseFds, highFdRefs
	// on the others (an Fd is the caller's to choose, and a dense table sized by it
	// would let one op ask for gigabytes); closers holds OpClose ops waiting for a
	// descriptor's count to reach zero (docs/RELIABILITY.md C4).
	fdRefs     []int32
	highFdRefs map[int]int32
	closers    map[int]int32
	// splices holds the slots of OpSplice ops in flight. The kernel files a splice
	// under its destination (the SQE's fd), so cancelling by descriptor does not find
	// it when its source is closed: deferClose cancels those one by one.
	splices map[int32]struct{}

	// eager is set when an op of the open link chain has FlagSubmitNow: the chain
	// goes to the kernel at the Submit of its last op.
	eager bool

	dispatching bool
	closing     bool // Close has begun: Submit refuses new work
	closed      bool
	stats       poller.Stats
}

var _ poller.Driver = (*Driver)(nil)

// DriverConfig configures NewDriver. The zero value is a 256-entry ring with the
// defaults that measured best on this project's machines.
type DriverConfig struct {
	// Entries is the submission queue size (default 256); the kernel clamps it.
	Entries uint32
	// CQEntries is the completion queue size (default max(4×Entries, 4096)).
	CQEntries uint32
	// Flags are added to the setup flags. SetupSQPoll asks for a kernel submission
	// thread; SetupSingleIssuer|SetupDeferTaskrun needs a locked OS thread.
	Flags SetupFlags
	// SQThreadCPU pins the SQPOLL thread when ≥ 0 and SetupSQPoll is set; -1 or 0 with
	// SQThreadPinned false leaves it unpinned.
	SQThreadCPU    int
	SQThreadPinned bool
	// SQThreadIdle is how long the SQPOLL thread spins before it sleeps.
	SQThreadIdle time.Duration
	// AttachWQ shares the SQPOLL thread and async workers of another ring.
	AttachWQ *Driver
	// MaxBatch bounds the completions one Wait delivers (default 256), so that one
	// busy source cannot starve the rest of the loop's work (C6).
	MaxBatch int
	// BatchWait, when positive, makes Wait sleep until BatchCount completions are
	// ready, but for at most BatchWait, after which any completion ends the sleep
	// (the kernel's min-wait, Linux 6.12; without it the option does nothing).
	// Under load it trades up to BatchWait of latency for a completion that arrives
	// alone for fewer wakeups and enters. Wake ends the sleep at once (see waker),
	// and so does the end of Wait's timeout; completions already ready never wait.
	BatchWait time.Duration
	// BatchCount is the batch BatchWait waits for (default 32).
	BatchCount uint32
	// WholeBuffers turns incremental consumption of buffer groups off: every
	// receive then takes a whole buffer, as on kernels before 6.12 (see
	// NewBufferGroup).
	WholeBuffers bool

	kernel kernel // nil: the real kernel; tests plug in a fault injector
}

// defaultSetup are the flags every driver ring gets: SUBMIT_ALL so that one bad SQE
// does not strand the rest of a batch, CLAMP so that large sizes degrade instead of
// failing, COOP_TASKRUN|TASKRUN_FLAG so that completions run when we enter rather than
// by interrupting the loop's thread.
const defaultSetup = SetupSubmitAll | SetupClamp | SetupCoopTaskrun | SetupTaskrunFlag

// NewDriver creates an io_uring driver. It undoes its partial work on failure.
func NewDriver(cfg DriverConfig) (*Driver, error) {
	cfg.setDefaults()
	rc := Config{
		Entries:      cfg.Entries,
		CQEntries:    cfg.CQEntries,
		Flags:        cfg.ringFlags(),
		SQThreadCPU:  -1,
		SQThreadIdle: cfg.SQThreadIdle,
		kernel:       cfg.kernel,
	}
	if cfg.SQThreadPinned {
		rc.SQThreadCPU = cfg.SQThreadCPU
	}
	if cfg.AttachWQ != nil {
		rc.AttachWQ = cfg.AttachWQ.ring.Fd()
	}
	ring, err := New(rc)
	if err != nil {
		return nil, err
	}
	d := &Driver{ring: ring, cfg: cfg, cqes: make([]CQE, cfg.MaxBatch), closers: map[int]int32{}, noIncBufs: cfg.WholeBuffers}
	d.wake.fd = -1
	if err := d.init(); err != nil {
		d.wake.close()
		ring.Close()
		return nil, err
	}
	return d, nil
}

func (c *DriverConfig) setDefaults() {
	if c.Entries == 0 {
		c.Entries = 256
	}
	if c.CQEntries == 0 {
		// Large enough that a thousand connections with multishot receives do not
		// overflow it between two reaps (an overflow ends every multishot op, and
		// re-arming them costs SQEs; bench/echo saw 17% of receives re-armed with
		// 1024 entries, none with 4096).
		c.CQEntries = max(4*c.Entries, 4096)
	}
	if c.MaxBatch <= 0 {
		c.MaxBatch = 256
	}
	if c.BatchCount == 0 {
		c.BatchCount = 32
	}
}

func (c *DriverConfig) ringFlags() SetupFlags {
	f := defaultSetup | c.Flags
	switch {
	case f&SetupSQPoll != 0:
		// The SQ thread runs task work itself; the kernel refuses the taskrun flags.
		f &^= SetupCoopTaskrun | SetupTaskrunFlag
	case f&SetupDeferTaskrun != 0:
		f &^= SetupCoopTaskrun // DEFER_TASKRUN replaces it
		f |= SetupSingleIssuer
	}
	if c.CQEntries != 0 {
		f |= SetupCQSize
	}
	if c.AttachWQ != nil {
		f |= SetupAttachWQ
	}
	return f
}

func (d *Driver) init() error {
	probe, err := d.ring.Probe()
	if err != nil {
		return err
	}
	d.probe = probe
	d.feat = poller.FeatNativeCompletion | poller.FeatAsyncFileIO | poller.FeatFixedFiles |
		poller.FeatFixedBuffers | poller.FeatBufferRing
	if probe.Supports(OpSplice) {
		d.feat |= poller.FeatSplice
	}
	if probe.Supports(OpSendZC) {
		d.feat |= poller.FeatSendZC
	}
	if probe.Supports(OpMsgRing) {
		d.feat |= poller.FeatMsgRing
	}
	if d.ring.Flags()&SetupSQPoll != 0 {
		d.feat |= poller.FeatSQPoll
	}
	// Known before the first group, so that users can size groups for it.
	if !d.noIncBufs && !d.ring.SupportsIncBufRing() {
		d.noIncBufs = true
	}
	if !d.noIncBufs {
		d.feat |= poller.FeatIncrementalBuffers
	}
	if err := d.wake.open(); err != nil {
		return err
	}
	// Only a batch wait needs the timer behind the wake read (see waker); CQE_SKIP_SUCCESS
	// arrived before min-wait did, so the feature bit implies both.
	d.wake.cut = d.cfg.BatchWait > 0 && d.ring.Features()&FeatMinTimeout != 0
	return d.armWake()
}

// CompletionsReady reports, without a system call, whether completions wait in the
// completion queue (or in the kernel, for overflow and deferred task work). A loop that
// spins before parking uses it.
func (d *Driver) CompletionsReady() bool {
	return !d.closed && (d.ring.CQReady() > 0 || d.ring.needsEnter() || len(d.ready) > 0)
}

// Ring returns the driver's ring, for registration calls the contract does not cover.
// The caller must not submit on it directly.
func (d *Driver) Ring() *Ring { return d.ring }

// RingOf returns the ring of d when d is an io_uring driver with every feature in
// want, else nil: how packages above the contract reach registration calls (files,
// buffers) the drivers do not share.
func RingOf(d poller.Driver, want poller.Features) *Ring {
	if w, ok := d.(interface{ Unwrap() poller.Driver }); ok {
		d = w.Unwrap() // a test's fault-injecting wrapper (internal/faultdriver)
	}
	u, ok := d.(*Driver)
	if !ok || !u.Info().Features.Has(want) {
		return nil
	}
	return u.ring
}

// Info describes the driver.
func (d *Driver) Info() poller.Info { return poller.Info{Name: "uring", Features: d.feat} }

// Stats returns the driver's counters (poller.StatsReporter). Only the owner calls it.
func (d *Driver) Stats() poller.Stats {
	s := d.stats
	rs := d.ring.Stats()
	s.Enters, s.Overflows = rs.Enters, rs.Overflows
	return s
}

var _ poller.StatsReporter = (*Driver)(nil)

// Submit queues op; see poller.Driver. With poller.FlagSubmitNow the op, and what was
// queued before it, reaches the kernel before Submit returns.
func (d *Driver) Submit(op *poller.Op) error {
	err := d.submit(op)
	if err != nil || op.Flags&poller.FlagSubmitNow == 0 && !d.eager {
		return err
	}
	if op.Flags&poller.FlagLink != 0 {
		d.eager = true // the chain is still open: it goes out whole, at its end
		return nil
	}
	d.eager = false
	d.placePending()
	// Errors leave the SQEs queued: the next Wait submits them and reports what stays
	// wrong. The op was accepted either way, so Submit must not fail now.
	d.submitNow()
	return nil
}

func (d *Driver) submit(op *poller.Op) error {
	if d.closed || d.closing {
		return poller.ErrClosed
	}
	if err := poller.Validate(op); err != nil {
		return err
	}
	if err := d.check(op); err != nil {
		return err
	}
	need := sqesFor(op)
	if d.chainSQEs+need > d.ring.SQEntries() {
		return &poller.InvalidOpError{Code: op.Code, Reason: "link chain longer than the submission queue"}
	}
	idx := d.slots.alloc(op)
	d.stats.Submitted++
	if d.chainCut {
		d.chainCut = op.Flags&poller.FlagLink != 0
		d.finishEarly(idx, -int32(unix.ECANCELED))
		return nil
	}
	if fd := refFd(op); fd >= 0 {
		if _, closing := d.closers[fd]; closing {
			d.finishEarly(idx, -int32(unix.EBADF))
			return nil
		}
		d.ref(fd)
		d.slots.at(idx).flags |= slotFdRef
	}
	if op.Code == poller.OpSplice {
		if d.splices == nil {
			d.splices = map[int32]struct{}{}
		}
		d.splices[idx] = struct{}{}
	}
	if op.Code == poller.OpClose && op.Flags&poller.FlagFixedFile == 0 && d.refsOf(op.Fd) > 0 {
		return d.deferClose(idx)
	}
	if len(d.pend) == 0 && op.Flags&poller.FlagLink == 0 && d.place(idx) {
		return nil
	}
	d.pend = append(d.pend, idx)
	if op.Flags&poller.FlagLink != 0 {
		d.chainSQEs += need
		return nil
	}
	d.chainSQEs = 0
	d.placePending()
	return nil
}

// check refuses what this driver cannot do; Validate has already run.
func (d *Driver) check(op *poller.Op) error {
	if op.Code == poller.OpSplice && !d.feat.Has(poller.FeatSplice) {
		return &poller.UnsupportedError{Driver: "uring", Code: op.Code}
	}
	if op.Code == poller.OpSendZC && !d.feat.Has(poller.FeatSendZC) {
		return &poller.UnsupportedError{Driver: "uring", Code: op.Code}
	}
	if op.Flags&poller.FlagBufferSelect != 0 && d.group(op.Group) == nil {
		return &poller.InvalidOpError{Code: op.Code, Reason: "unknown buffer group"}
	}
	return nil
}

// Cancel asks for op's cancellation; see poller.Driver.
func (d *Driver) Cancel(op *poller.Op) error {
	if d.closed {
		return poller.ErrClosed
	}
	idx, ok := d.slots.lookup(op)
	if !ok {
		return poller.ErrNotInFlight
	}
	s := d.slots.at(idx)
	if s.flags&slotCancelled != 0 {
		return nil
	}
	s.flags |= slotCancelled
	switch s.state {
	case statePending:
		d.cancelPending(idx)
	case stateClosing:
		// An OpClose waiting for its descriptor's ops; it will run once they are done.
	case stateSubmitted:
		d.cancelKernel(op.Ref)
		if op.Code == poller.OpSplice {
			// It may still wait behind its poll, where a cancel of its own user_data
			// does not find it; the poll's cancel fails the link.
			d.cancelKernel(userData(tagSplicePoll, s.gen, idx))
		}
	}
	return nil
}

// Wake makes a concurrent or the next Wait return. Safe for concurrent use.
func (d *Driver) Wake() error { return d.wake.signal() }

// Wait flushes submissions and delivers completions; see poller.Driver.
func (d *Driver) Wait(timeout time.Duration) (int, error) {
	if d.closed {
		return 0, poller.ErrClosed
	}
	if d.dispatching {
		return 0, poller.ErrReentrant
	}
	d.placePending()
	n := d.deliverReady()
	n += d.reap()
	if n > 0 || d.wake.woken || timeout == 0 {
		if err := d.flush(); err != nil {
			return n, err
		}
		if n == 0 {
			n = d.reap()
		}
		d.wake.woken = false
		return n, nil
	}
	if err := d.enterWait(timeout); err != nil {
		return n, err
	}
	n += d.reap()
	d.wake.woken = false
	return n, nil
}

// flush hands queued SQEs to the kernel and, when completions wait there (overflow,
// deferred task work), lets it post them. EBUSY and EAGAIN leave the SQEs queued for
// the next Wait, after the reap that cures them.
func (d *Driver) flush() error {
	_, err := d.ring.Submit()
	if err != nil && err != unix.EBUSY && err != unix.EAGAIN {
		return err
	}
	return nil
}

// enterWait submits and waits for one completion (or a batch, with BatchWait) or the
// timeout. EBUSY means the
// kernel holds completions we have not reaped: reaping is the cure, so it is not an
// error.
func (d *Driver) enterWait(timeout time.Duration) error {
	_, err := d.ring.SubmitAndWaitBatch(d.cfg.BatchCount, d.cfg.BatchWait, timeout)
	if err == nil || err == unix.ETIME || err == unix.EBUSY || err == unix.EAGAIN {
		return nil
	}
	return err
}

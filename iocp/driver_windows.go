package iocp

import (
	"math"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/windows"

	"github.com/zokio/zokio/internal/bufgroup"
	"github.com/zokio/zokio/internal/timerheap"
	"github.com/zokio/zokio/poller"
)

// Completion keys: which kind of packet an entry is. Every handle the driver uses is
// associated with the port under keyIO; its packets carry a request's OVERLAPPED.
const (
	keyIO     = 1 // overlapped I/O on an associated handle (sockets, files, the AFD device)
	keyWake   = 2 // Wake's packet; no OVERLAPPED
	keyWorker = 3 // a worker finished a request; the OVERLAPPED names it
)

// batch is how many packets one GetQueuedCompletionStatusEx call takes: the bound on a
// Wait's work (C6), and the size of the entry array.
const batch = 128

// Driver is a poller.Driver on an I/O completion port.
//
// A Driver is used only by the goroutine that created it, except Wake, which is safe for
// concurrent use by multiple goroutines. A Wake that returns nil happens before the Wait
// it makes return (or the next Wait) returns.
type Driver struct {
	port windows.Handle

	slots   []*slot // the in-flight table; index = slot number, never shrinks
	free    []int32 // free slot numbers, last in first out
	live    int     // slots not free
	handles map[windows.Handle]*handle
	comp    []completion // results to deliver, in order; Wait drains them
	spare   []completion
	linkq   []int32 // chain successors whose predecessor finished
	timers  timerheap.Heap
	base    time.Time
	entries []overlappedEntry
	groups  []*bufgroup.Group
	pool    pool
	afd     windows.Handle // \Device\Afd, opened at the first OpPoll

	// An open FlagLink chain, not started yet, as Refs.
	chainHead, chainTail uint64

	wakeMu      sync.Mutex  // orders a Wake's post against Close closing the port
	wakePending atomic.Bool // a wake packet is queued and not yet consumed
	portClosed  bool        // guarded by wakeMu

	stats  poller.Stats
	inWait bool
	closed bool
}

var (
	_ poller.Driver           = (*Driver)(nil)
	_ poller.InFlightReporter = (*Driver)(nil)
	_ poller.StatsReporter    = (*Driver)(nil)
)

// New creates a driver with its own completion port. It starts no goroutine: the
// file-op workers start at the first op that needs one.
func New() (*Driver, error) {
	port, err := windows.CreateIoCompletionPort(windows.InvalidHandle, 0, 0, 1)
	if err != nil {
		return nil, &poller.UnsupportedError{Driver: "iocp", What: "CreateIoCompletionPort: " + err.Error()}
	}
	d := &Driver{
		port:    port,
		handles: make(map[windows.Handle]*handle),
		base:    time.Now(),
		entries: make([]overlappedEntry, batch),
	}
	d.pool.port = port
	return d, nil
}

// Info describes the driver.
func (d *Driver) Info() poller.Info {
	return poller.Info{Name: "iocp", Features: poller.FeatNativeCompletion | poller.FeatAsyncFileIO}
}

// Stats returns the driver's counters.
func (d *Driver) Stats() poller.Stats { return d.stats }

// Submit starts op (see poller.Driver). Overlapped calls are issued inside Submit, so
// there is nothing to flush later; a result known at once (an error, a nop) is
// delivered by the next Wait, never inside Submit.
func (d *Driver) Submit(op *poller.Op) error {
	if d.closed {
		return poller.ErrClosed
	}
	if err := poller.Validate(op); err != nil {
		return err
	}
	if err := supported(op); err != nil {
		return err
	}
	if op.Flags&poller.FlagBufferSelect != 0 && d.group(op.Group) == nil {
		return &poller.InvalidOpError{Code: op.Code, Reason: "unknown buffer group"} // as every driver
	}
	if err := d.refuseForeign(op); err != nil {
		return err
	}
	d.stats.Submitted++
	idx := d.alloc(op)
	s := d.slots[idx]
	s.state = stChained // until start: every op waits for its turn there, if only briefly
	switch {
	case d.chainTail != 0:
		if t, tidx := d.lookup(d.chainTail); t != nil && t.state == stChained {
			t.link, s.lprev = idx+1, tidx+1
		} else {
			// The chain lost an op to Cancel; the rest fails, as io_uring's would.
			d.finish(idx, resCanceled, 0, 0)
		}
		d.chainTail = op.Ref
		if op.Flags&poller.FlagLink == 0 {
			d.closeChain()
		}
	case op.Flags&poller.FlagLink != 0:
		d.chainHead, d.chainTail = op.Ref, op.Ref
	default:
		d.start(idx)
	}
	d.runLinks()
	return nil
}

// supported refuses what needs io_uring. FlagAsync and FlagSubmitNow are accepted and
// ignored: every op is issued inside Submit already.
func supported(op *poller.Op) error {
	switch {
	case op.Code == poller.OpSendZC, op.Code == poller.OpSplice:
		return &poller.UnsupportedError{Driver: "iocp", Code: op.Code}
	case op.Flags&poller.FlagFixedFile != 0:
		return &poller.UnsupportedError{Driver: "iocp", Code: op.Code, What: "FlagFixedFile"}
	case op.Flags&poller.FlagFixedBuffer != 0:
		return &poller.UnsupportedError{Driver: "iocp", Code: op.Code, What: "FlagFixedBuffer"}
	}
	return nil
}

// closeChain starts an open chain: at its last op, or at the next Wait when the caller
// left it open.
func (d *Driver) closeChain() {
	h, idx := d.lookup(d.chainHead)
	d.chainHead, d.chainTail = 0, 0
	if h != nil && h.state == stChained {
		d.start(idx)
	}
}

// runLinks starts, or fails, the chain successors that finish queued.
func (d *Driver) runLinks() {
	for i := 0; i < len(d.linkq); i++ { // start may append while this runs
		idx := d.linkq[i]
		s := d.slots[idx]
		if s.state != stChained {
			continue
		}
		if s.linkFail {
			d.finish(idx, resCanceled, 0, 0)
		} else {
			d.start(idx)
		}
	}
	d.linkq = d.linkq[:0]
}

// Cancel asks for op's cancellation (see poller.Driver): CancelIoEx on its OVERLAPPED.
// Its packet still comes, with STATUS_CANCELLED or with the real result if that won
// (CancelIoEx's ERROR_NOT_FOUND), and completes it then.
func (d *Driver) Cancel(op *poller.Op) error {
	if op == nil {
		return poller.ErrNotInFlight
	}
	s, idx := d.lookup(op.Ref)
	if s == nil || s.op != op {
		return poller.ErrNotInFlight
	}
	switch s.state {
	case stChained:
		d.unchain(idx, s)
		d.finish(idx, resCanceled, 0, 0)
	case stTimer:
		d.timers.Remove(idx)
		d.finish(idx, resCanceled, 0, 0)
	case stPending:
		d.cancelIO(s)
	}
	d.runLinks()
	return nil
}

// unchain takes a chained op out of its chain; its successor then fails with it.
func (d *Driver) unchain(idx int32, s *slot) {
	if s.lprev != 0 {
		d.slots[s.lprev-1].link = 0
		s.lprev = 0
	}
	if d.chainHead == s.op.Ref {
		d.chainHead = 0
	}
}

// Wake makes a concurrent or the next Wait return. Wakes are coalesced: while one wake
// packet is queued, further Wakes post nothing. Safe for concurrent use.
func (d *Driver) Wake() error {
	// CompareAndSwap pairs with the Store(false) in Wait that consumes the packet: a
	// Wake that finds a packet queued is covered by that packet's Wait return.
	if !d.wakePending.CompareAndSwap(false, true) {
		return nil
	}
	d.wakeMu.Lock()
	defer d.wakeMu.Unlock()
	if d.portClosed {
		return poller.ErrClosed
	}
	if err := windows.PostQueuedCompletionStatus(d.port, 0, keyWake, nil); err != nil {
		d.wakePending.Store(false)
		return err
	}
	return nil
}

// Wait delivers completions (see poller.Driver).
func (d *Driver) Wait(timeout time.Duration) (int, error) {
	if d.inWait {
		return 0, poller.ErrReentrant
	}
	if d.closed {
		return 0, poller.ErrClosed
	}
	d.inWait = true
	defer func() { d.inWait = false }()
	if d.chainHead != 0 {
		d.closeChain()
		d.runLinks()
	}
	var end int64
	if timeout > 0 {
		end = d.deadline(timeout)
	}
	n := 0
	for {
		ms := uint32(0)
		if len(d.comp) == 0 {
			ms = d.waitMillis(timeout, end)
		}
		woke, err := d.reap(ms)
		if err != nil {
			return n, err
		}
		d.fireTimers()
		d.runLinks()
		n += d.deliver()
		if n > 0 || woke || timeout == 0 || (timeout > 0 && d.now() >= end) {
			return n, nil
		}
	}
}

// waitMillis is how long one GQCSEx may block: until the caller's deadline or the next
// timer, rounded up so that a wait never ends just before a deadline and spins.
func (d *Driver) waitMillis(timeout time.Duration, end int64) uint32 {
	if timeout == 0 {
		return 0
	}
	until := int64(math.MaxInt64)
	if timeout > 0 {
		until = end
	}
	if _, when, ok := d.timers.Peek(); ok && when < until {
		until = when
	}
	if until == math.MaxInt64 {
		return windows.INFINITE
	}
	left := until - d.now()
	if left <= 0 {
		return 0
	}
	ms := (left + int64(time.Millisecond) - 1) / int64(time.Millisecond)
	if ms >= windows.INFINITE {
		ms = windows.INFINITE - 1
	}
	return uint32(ms)
}

// reap takes one batch of packets, waiting up to ms, and processes every entry. It
// reports whether a wake packet was among them.
func (d *Driver) reap(ms uint32) (woke bool, err error) {
	d.stats.Enters++
	n, err := getQueuedCompletionStatusEx(d.port, d.entries, ms)
	if err != nil {
		if err == windows.WAIT_TIMEOUT {
			return false, nil
		}
		return false, err
	}
	for i := range d.entries[:n] {
		e := &d.entries[i]
		switch e.Key {
		case keyWake:
			// Store-release pairs with Wake's CompareAndSwap: Wakes after this post again.
			d.wakePending.Store(false)
			d.stats.Wakeups++
			woke = true
		case keyIO, keyWorker:
			d.packet(e)
		}
		*e = overlappedEntry{}
	}
	d.feedWorkers()
	return woke, nil
}

// deliver calls Done for the completions queued before it started, so that ops which
// Done callbacks submit wait for the next Wait (C6).
func (d *Driver) deliver() int {
	q := d.comp
	d.comp = d.spare[:0]
	n := 0
	for i := range q {
		c := q[i]
		s := d.slots[c.slot]
		if s.gen != c.gen || s.state == stFree {
			d.stats.Stale++
			continue
		}
		op := s.op
		if c.flags&poller.ResMore == 0 {
			d.release(c.slot, s)
		}
		op.BufOff = 0
		op.MsgFlags = c.msgFlags
		d.stats.Completions++
		n++
		op.Complete(c.res, c.flags, c.buf)
	}
	clear(q)
	d.spare = q[:0]
	d.runLinks()
	return n
}

// Close completes every op in flight and releases the port (see poller.Driver).
func (d *Driver) Close() error {
	if d.closed {
		return poller.ErrClosed
	}
	if d.inWait {
		return poller.ErrReentrant
	}
	d.closed = true
	d.inWait = true
	if d.chainHead != 0 {
		d.closeChain()
	}
	for idx, s := range d.slots {
		d.abort(int32(idx), s)
	}
	d.runLinks()
	for d.live > 0 {
		if len(d.comp) == 0 {
			// Ops in the kernel complete once cancelled; a worker's op when it returns.
			if _, err := d.reap(1000); err != nil {
				break
			}
			for idx, s := range d.slots {
				if s.state == stPending && s.flags&fCloseCancel == 0 {
					d.abort(int32(idx), s)
				}
			}
			d.runLinks()
		}
		d.deliver()
	}
	d.inWait = false
	d.pool.stop()
	if d.afd != 0 {
		windows.CloseHandle(d.afd)
	}
	for _, g := range d.groups {
		g.Free()
	}
	d.wakeMu.Lock()
	d.portClosed = true
	err := windows.CloseHandle(d.port)
	d.wakeMu.Unlock()
	return err
}

// abort ends what Close finds in flight: queued and timer-only ops at once, ops in the
// kernel through cancellation.
func (d *Driver) abort(idx int32, s *slot) {
	switch s.state {
	case stChained:
		d.unchain(idx, s)
		d.finish(idx, resCanceled, 0, 0)
	case stTimer:
		d.timers.Remove(idx)
		d.finish(idx, resCanceled, 0, 0)
	case stPending:
		s.flags |= fCloseCancel
		d.cancelIO(s)
	}
}

// NewBufferGroup creates a buffer group for OpRecv with FlagBufferSelect. Group ids start
// at 1, so that a zero Op.Group names no group.
func (d *Driver) NewBufferGroup(count, size int) (poller.BufferGroup, error) {
	if d.closed {
		return nil, poller.ErrClosed
	}
	if len(d.groups) >= math.MaxUint16 {
		return nil, bufgroup.ErrTooMany
	}
	g, err := bufgroup.New(uint16(len(d.groups)+1), count, size)
	if err != nil {
		return nil, err
	}
	d.groups = append(d.groups, g)
	return g, nil
}

// group returns buffer group id, or nil.
func (d *Driver) group(id uint16) *bufgroup.Group {
	if id == 0 || int(id) > len(d.groups) {
		return nil
	}
	return d.groups[id-1]
}

// InFlight lists the in-flight table, for diagnostics (see poller.InFlightReporter).
func (d *Driver) InFlight(dst []poller.InFlightOp) []poller.InFlightOp {
	for idx, s := range d.slots {
		if s.state == stFree {
			continue
		}
		dst = append(dst, poller.InFlightOp{Slot: int32(idx), Gen: s.gen, State: stateNames[s.state],
			Code: s.op.Code, Fd: s.op.Fd, Flags: s.op.Flags})
	}
	return dst
}

func (d *Driver) now() int64 { return int64(time.Since(d.base)) }

func (d *Driver) deadline(t time.Duration) int64 {
	now := d.now()
	if int64(t) > math.MaxInt64-now {
		return math.MaxInt64
	}
	return now + int64(t)
}

// fireTimers handles the timers that are due: OpTimeout completes with ETIME; an op
// whose Timeout passed is cancelled, and completes with ETIME when its packet comes.
func (d *Driver) fireTimers() {
	if d.timers.Len() == 0 {
		return
	}
	now := d.now()
	for {
		idx, when, ok := d.timers.Peek()
		if !ok || when > now {
			return
		}
		d.timers.Remove(idx)
		s := d.slots[idx]
		switch s.state {
		case stTimer:
			d.finish(idx, -int32(poller.ETIME), 0, 0)
		case stPending:
			s.flags |= fTimedOut
			d.cancelIO(s)
		}
	}
}

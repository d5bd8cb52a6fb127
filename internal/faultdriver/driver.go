package faultdriver

import (
	"math/rand/v2"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/zokio/zokio/poller"
)

// Driver is a poller.Driver that forwards to a real one and injects faults. Like the
// driver it wraps, it is used only by the goroutine that created it, except Wake,
// which is safe for concurrent use by multiple goroutines.
type Driver struct {
	inner poller.Driver
	cfg   Config
	rng   *rand.Rand

	ops    map[*poller.Op]*opState // every op accepted and not yet finally delivered
	queues map[int64]*queue        // held completions, per stream
	done   func(*poller.Op)        // d.intercept, bound once

	waits       uint64 // Wait calls so far: the clock held completions are due by
	delivered   int    // completions delivered by the current Wait
	nextKey     int64  // keys of ops that belong to no stream
	nextRef     uint64 // Ref values of ops the wrapper holds
	chain       bool   // the last op submitted had FlagLink: the next one is in its chain
	closing     bool
	dispatching bool

	counts Counts
}

// Counts says how many faults a Driver injected, by kind.
type Counts struct {
	Short, Delayed, Cancelled, Errno, SubmitErr int
}

// Total is the number of faults injected.
func (c Counts) Total() int { return c.Short + c.Delayed + c.Cancelled + c.Errno + c.SubmitErr }

// opState is what the wrapper remembers of an op it accepted.
type opState struct {
	done      func(*poller.Op) // the caller's Done
	buf       []byte           // the caller's Buf and Bufs, restored before Done runs
	bufs      [][]byte
	key       int64 // the stream its completions belong to
	held      bool  // its final completion waits in a queue (or it was never submitted)
	synthetic bool  // never submitted: an Errno fault
}

// completion is one completion as the inner driver reported it.
type completion struct {
	op       *poller.Op
	res      int32
	flags    poller.ResultFlags
	bufID    uint16
	bufOff   uint32
	msgFlags int32
	ctlLen   int64
	ref      uint64
}

// queue holds one stream's completions, in order, until the Wait numbered due.
type queue struct {
	due   uint64
	items []completion
}

var _ poller.Driver = (*Driver)(nil)

// New wraps inner. The wrapper owns inner from now on: Close closes it.
func New(inner poller.Driver, cfg Config) *Driver {
	if cfg.MaxDelay <= 0 {
		cfg.MaxDelay = 3
	}
	d := &Driver{
		inner:  inner,
		cfg:    cfg,
		rng:    rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)),
		ops:    make(map[*poller.Op]*opState),
		queues: make(map[int64]*queue),
	}
	d.done = d.intercept
	return d
}

// Unwrap returns the wrapped driver, for callers that reach a driver's own methods
// (uring.RingOf, an SQ thread to attach to).
func (d *Driver) Unwrap() poller.Driver { return d.inner }

// Config returns the schedule d runs.
func (d *Driver) Config() Config { return d.cfg }

// Injected returns the faults injected so far. Only the owner calls it.
func (d *Driver) Injected() Counts { return d.counts }

func (d *Driver) roll(k Kind) bool {
	return d.cfg.Kinds&k != 0 && d.cfg.Rate > 0 && d.rng.Float64() < d.cfg.Rate
}

// Submit forwards op, injecting the faults the schedule draws for it; see
// poller.Driver.
func (d *Driver) Submit(op *poller.Op) error {
	if op != nil {
		if _, ok := d.ops[op]; ok {
			return poller.ErrInFlight
		}
	}
	if d.closing {
		return poller.ErrClosed
	}
	if err := poller.Validate(op); err != nil {
		return err
	}
	inChain := d.chain
	// Visible faults only for an op on its own: a chain's members depend on each
	// other's results, and a multishot stream is re-armed by its driver.
	plain := !inChain && op.Flags&(poller.FlagLink|poller.FlagMultishot) == 0
	if plain && d.roll(SubmitErr) {
		d.counts.SubmitErr++
		return []syscall.Errno{syscall.ENOMEM, syscall.EAGAIN, syscall.EBUSY}[d.rng.IntN(3)]
	}
	d.chain = op.Flags&poller.FlagLink != 0
	st := &opState{done: op.Done, buf: op.Buf, bufs: op.Bufs, key: d.keyOf(op)}
	if plain && d.roll(Errno) {
		if e := errnoFor(op); e != 0 {
			d.counts.Errno++
			return d.synthesize(op, st, e)
		}
	}
	if plain && d.roll(Short) && shorten(op, d.rng) {
		d.counts.Short++
	}
	op.Done = d.done
	d.ops[op] = st
	if err := d.inner.Submit(op); err != nil {
		delete(d.ops, op)
		op.Done, op.Buf, op.Bufs = st.done, st.buf, st.bufs
		d.chain = inChain
		return err
	}
	if plain && d.roll(Cancel) {
		d.counts.Cancelled++
		_ = d.inner.Cancel(op) // ECANCELED, or the real result if it won
	}
	return nil
}

// synthesize accepts op without submitting it: it completes with -e at the next Wait.
func (d *Driver) synthesize(op *poller.Op, st *opState, e syscall.Errno) error {
	st.held, st.synthetic = true, true
	d.ops[op] = st
	d.nextRef++
	op.Ref = 1<<63 | d.nextRef
	d.hold(completion{op: op, res: -int32(e)}, st.key, d.waits+1)
	return nil
}

// keyOf names the stream op's completions belong to: its descriptor for the ops that
// work on one, otherwise a key of its own.
func (d *Driver) keyOf(op *poller.Op) int64 {
	switch op.Code {
	case poller.OpNop, poller.OpTimeout, poller.OpOpenat, poller.OpStatx, poller.OpUnlinkat,
		poller.OpRenameat, poller.OpMkdirat:
		d.nextKey--
		return d.nextKey
	}
	if op.Flags&poller.FlagFixedFile != 0 {
		return 1<<40 + int64(op.Fd)
	}
	return int64(op.Fd)
}

// intercept receives every completion of an op the inner driver runs: it delivers it,
// or holds it behind its stream's held completions, or starts holding it.
func (d *Driver) intercept(op *poller.Op) {
	st := d.ops[op]
	if st == nil {
		panic("faultdriver: completion of an op the wrapper does not know")
	}
	c := completion{op: op, res: op.Res, flags: op.Result, bufID: op.BufID, bufOff: op.BufOff,
		msgFlags: op.MsgFlags, ctlLen: op.Len, ref: op.Ref}
	if op.Code == poller.OpClose {
		// A close is never late: once the kernel has freed the number, an accept or
		// open may return it, and its caller must have learnt of the close first. So
		// the descriptor's held completions go now, then the close.
		if q := d.queues[st.key]; q != nil {
			delete(d.queues, st.key)
			for _, h := range q.items {
				d.deliver(h)
			}
		}
		d.deliver(c)
		return
	}
	if q := d.queues[st.key]; q != nil {
		d.hold(c, st.key, q.due)
		return
	}
	if !d.closing && d.roll(Delay) {
		d.counts.Delayed++
		d.hold(c, st.key, d.waits+1+uint64(d.rng.IntN(d.cfg.MaxDelay)))
		return
	}
	d.deliver(c)
}

// hold queues c on its stream; a final completion keeps the op looking in flight.
func (d *Driver) hold(c completion, key int64, due uint64) {
	q := d.queues[key]
	if q == nil {
		q = &queue{due: due}
		d.queues[key] = q
	}
	q.items = append(q.items, c)
	if c.flags&poller.ResMore == 0 {
		d.ops[c.op].held = true
		if c.op.Ref == 0 {
			d.nextRef++
			c.op.Ref = 1<<63 | d.nextRef
		}
	}
}

// deliver hands c to the caller's Done, with the caller's buffers back in place.
func (d *Driver) deliver(c completion) {
	op := c.op
	st := d.ops[op]
	op.Res, op.Result, op.BufID, op.BufOff, op.MsgFlags = c.res, c.flags, c.bufID, c.bufOff, c.msgFlags
	if op.Code == poller.OpRecvmsg {
		op.Len = c.ctlLen
	}
	op.Buf, op.Bufs = st.buf, st.bufs
	done := st.done
	if c.flags&poller.ResMore == 0 {
		delete(d.ops, op)
		op.Done, op.Ref = done, 0
	} else {
		op.Ref = c.ref
	}
	d.delivered++
	done(op)
}

// release delivers the queues due by now, stream by stream in a random order, each
// stream's completions in the order they came.
func (d *Driver) release(all bool) {
	var due []int64
	for k, q := range d.queues {
		if all || q.due <= d.waits {
			due = append(due, k)
		}
	}
	slices.Sort(due) // map order is not seeded; the shuffle below is
	d.rng.Shuffle(len(due), func(i, j int) { due[i], due[j] = due[j], due[i] })
	qs := make([]*queue, len(due))
	for i, k := range due {
		qs[i] = d.queues[k]
		delete(d.queues, k)
	}
	for _, q := range qs {
		for _, c := range q.items {
			d.deliver(c)
		}
	}
}

// Cancel forwards to the inner driver, unless op's final completion is already held
// here (then it is delivered as it is, the real result having won).
func (d *Driver) Cancel(op *poller.Op) error {
	if st, ok := d.ops[op]; ok && st.held {
		return nil
	}
	return d.inner.Cancel(op)
}

// Wait forwards to the inner driver, then delivers the held completions now due;
// see poller.Driver. While completions are held it does not block.
func (d *Driver) Wait(timeout time.Duration) (int, error) {
	if d.dispatching {
		return 0, poller.ErrReentrant
	}
	d.dispatching = true
	defer func() { d.dispatching = false }()
	d.waits++
	d.delivered = 0
	if len(d.queues) > 0 {
		timeout = 0
	}
	_, err := d.inner.Wait(timeout)
	if !d.closing {
		d.release(false)
	}
	return d.delivered, err
}

// Wake forwards to the inner driver. Safe for concurrent use.
func (d *Driver) Wake() error { return d.inner.Wake() }

// Close closes the inner driver, which completes its ops, then delivers every held
// completion; see poller.Driver.
func (d *Driver) Close() error {
	if d.dispatching {
		return d.inner.Close()
	}
	d.closing = true
	d.dispatching = true
	err := d.inner.Close()
	d.release(true)
	d.dispatching = false
	totals.add(d.counts)
	return err
}

// tally sums the faults of every closed Driver of the process.
type tally struct {
	sync.Mutex
	c Counts
}

var totals tally

func (t *tally) add(c Counts) {
	t.Lock()
	t.c.Short += c.Short
	t.c.Delayed += c.Delayed
	t.c.Cancelled += c.Cancelled
	t.c.Errno += c.Errno
	t.c.SubmitErr += c.SubmitErr
	t.Unlock()
}

// Totals returns the faults injected by every Driver of the process closed so far.
// Safe for concurrent use.
func Totals() Counts {
	totals.Lock()
	defer totals.Unlock()
	return totals.c
}

// NewBufferGroup forwards to the inner driver.
func (d *Driver) NewBufferGroup(count, size int) (poller.BufferGroup, error) {
	return d.inner.NewBufferGroup(count, size)
}

// Info describes the inner driver.
func (d *Driver) Info() poller.Info { return d.inner.Info() }

// Stats returns the inner driver's counters (zero when it keeps none).
func (d *Driver) Stats() poller.Stats {
	if r, ok := d.inner.(poller.StatsReporter); ok {
		return r.Stats()
	}
	return poller.Stats{}
}

// CompletionsReady reports whether a Wait would deliver without blocking.
func (d *Driver) CompletionsReady() bool {
	if len(d.queues) > 0 {
		return true
	}
	p, ok := d.inner.(interface{ CompletionsReady() bool })
	return ok && p.CompletionsReady()
}

// InFlight lists the inner driver's table, then the ops whose final completion is
// held here.
func (d *Driver) InFlight(dst []poller.InFlightOp) []poller.InFlightOp {
	if r, ok := d.inner.(poller.InFlightReporter); ok {
		dst = r.InFlight(dst)
	}
	for op, st := range d.ops {
		if st.held {
			dst = append(dst, poller.InFlightOp{Slot: -1, State: "held by faultdriver",
				Code: op.Code, Fd: op.Fd, Flags: op.Flags})
		}
	}
	return dst
}

var (
	_ poller.StatsReporter    = (*Driver)(nil)
	_ poller.InFlightReporter = (*Driver)(nil)
)

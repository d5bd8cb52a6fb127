package runtime

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zokio/zokio/numa"
	"github.com/zokio/zokio/poller"
	"github.com/zokio/zokio/runtime/driver"
	"github.com/zokio/zokio/sqpoll"
)

// ErrClosed is returned for work offered to a runtime that is closing or closed.
// errors.Is reports it as net.ErrClosed and os.ErrClosed too.
var ErrClosed = poller.ErrClosed

// Options configure New. The zero value is one loop per CPU in the process's affinity
// mask, each pinned to its CPU, on the driver driver.Choose picks.
type Options struct {
	// Loops is the number of loops (default: one per allowed CPU).
	Loops int
	// CPUs restricts the CPUs loops are pinned to; each must be allowed (online, in
	// the affinity mask and in the cgroup cpuset). Default: every allowed CPU. Where
	// loops go among them is the placement plan's (package numa). Backends: all;
	// pinning happens where the OS allows it.
	CPUs []int
	// Placement spreads loops across NUMA nodes (numa.Spread, the default) or packs
	// them onto as few nodes as possible (numa.Pack).
	Placement numa.Strategy
	// NoPin leaves loops unpinned.
	NoPin bool
	// Driver selects the I/O driver: driver.Auto (default), driver.Uring or
	// driver.Epoll. ZOKIO_DRIVER overrides Auto.
	Driver driver.Kind
	// RingEntries is each io_uring's submission queue size (default 256).
	// Backends: uring.
	RingEntries uint32
	// SQPoll configures kernel submission threads (package sqpoll): Off by default
	// (ZOKIO_SQPOLL overrides the default), PerRing, or Shared by every ring of the
	// runtime. A refused SQPOLL falls back to Off with the reason in Runtime.SQPoll.
	// Backends: uring.
	SQPoll sqpoll.Config
	// TickBudget bounds the tasks and timers a loop runs before it looks at I/O again
	// (default 256), so that busy tasks cannot starve completions (C6).
	TickBudget int
	// SpinBeforePark, when positive, makes a loop with nothing to do keep checking for
	// posted work and ready completions for up to this long before it sleeps in the
	// kernel, and makes goroutines waiting in BlockOn and Loop.Do check for their
	// result as long before they park. Waking a sleeping thread costs tens of
	// microseconds on virtual machines (about 15 µs per wake measured on this
	// project's); spinning trades CPU for that latency, as glommio's spin_before_park
	// does. Zero (the default) never spins. An idle runtime still sleeps: the spin
	// only follows activity. Backends: all.
	SpinBeforePark time.Duration
	// BatchWait, when positive, lets a loop that sleeps in the kernel wait for a
	// batch of completions (32) for up to this long before it takes fewer: under
	// load, fewer wakeups and kernel enters per op for up to BatchWait more latency
	// per wakeup, posts and timers included (see bench/README.md, "batchwait").
	// Posts (Spawn, Post, Do, Call) and Close cut a batch wait short, and a loop's
	// next timer bounds it. It must lie between 0 and MaxBatchWait; New refuses
	// other values. Zero (the default) wakes on the first completion. Backends:
	// uring on Linux ≥ 6.12 (the kernel's min-wait); ignored elsewhere.
	BatchWait time.Duration
	// UnlockedLoops runs each loop's goroutine without locking it to an OS thread, so
	// that waking a goroutine and giving it the P costs no switch between threads
	// (with a locked loop, every tick that wakes goroutines hands the P to another
	// thread and back). Loops are then not pinned (as with NoPin), and io_uring rings
	// are made without SINGLE_ISSUER and DEFER_TASKRUN, which need a fixed thread.
	// It pays where goroutines do the serving, through znet's net.Conn adapters with
	// request/response traffic (net/http: 0.86× the CPU per request on epoll, 0.93× on
	// io_uring), and costs where the loop does (pipelined streams on io_uring, which
	// lose DEFER_TASKRUN's batching); see bench/README.md, issue 18. Off by default.
	// Backends: all.
	UnlockedLoops bool
}

// MaxBatchWait is the largest Options.BatchWait. The wait is latency added to every
// completion that arrives alone; the values that paid here were tens of microseconds
// (bench/README.md, "batchwait"), and beyond a few milliseconds a loop would delay
// lone completions by more than a scheduler tick for no batch worth having.
const MaxBatchWait = 10 * time.Millisecond

// ErrInvalidOptions is wrapped by New's error for Options it refuses; the message
// names the field.
var ErrInvalidOptions = errors.New("zokio/runtime: invalid Options")

// check refuses Options that no runtime could honour, before anything is started.
// CPUs outside the allowed set are refused by the placement plan (numa).
func (o *Options) check() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrInvalidOptions}, args...)...)
	}
	switch {
	case o.Loops < 0:
		return bad("Loops is negative (%d)", o.Loops)
	case o.BatchWait < 0:
		return bad("BatchWait is negative (%v)", o.BatchWait)
	case o.BatchWait > MaxBatchWait:
		return bad("BatchWait %v is more than MaxBatchWait (%v)", o.BatchWait, MaxBatchWait)
	case o.SpinBeforePark < 0:
		return bad("SpinBeforePark is negative (%v)", o.SpinBeforePark)
	case o.TickBudget < 0:
		return bad("TickBudget is negative (%d)", o.TickBudget)
	}
	seen := make(map[int]bool, len(o.CPUs))
	for _, c := range o.CPUs {
		switch {
		case c < 0:
			return bad("CPUs lists CPU %d: CPU numbers are not negative", c)
		case seen[c]:
			return bad("CPUs lists CPU %d twice", c)
		}
		seen[c] = true
	}
	return nil
}

// Runtime is a set of event loops, one per core. It is safe for concurrent use by
// multiple goroutines.
type Runtime struct {
	opts     Options
	loops    []*Loop
	decision driver.Decision
	plan     *numa.Plan
	sq       sqpoll.Config // the mode decided, applied to every ring
	sqMu     sync.Mutex    // guards sqDec, which a loop may revise when its ring is refused
	sqDec    sqpoll.Decision
	closing  atomic.Bool
	next     atomic.Uint32 // round robin for Spawn from outside the loops
	sleepers atomic.Int32  // loops blocked in their driver, for waking thieves
	thief    atomic.Bool   // a sleeping loop has been woken to steal and has not looked yet
	inject   injectQueue   // stealable tasks that overflowed a loop's ring
	stopped  sync.WaitGroup
	closeMu  sync.Mutex
	done     chan struct{} // closed when every loop has stopped
}

// New starts a runtime: its loops, each on its own locked OS thread, each with its own
// driver. It returns once every loop runs, or undoes everything and returns the first
// error.
func New(opts Options) (*Runtime, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	if opts.TickBudget == 0 {
		opts.TickBudget = 256
	}
	rt := &Runtime{opts: opts, done: make(chan struct{})}
	if err := rt.place(); err != nil {
		return nil, err
	}
	if err := rt.decideSQPoll(); err != nil {
		return nil, err
	}
	// Every Loop exists before any starts: a running loop scans rt.loops to steal.
	for i, p := range rt.plan.Loops {
		cpu := p.CPU
		if opts.NoPin || opts.UnlockedLoops {
			cpu = -1
		}
		rt.loops = append(rt.loops, newLoop(rt, i, cpu, p))
	}
	ready := make(chan error, len(rt.loops))
	first := rt.loops
	if rt.sq.AttachesToFirst() {
		// The other rings attach to loop 0's SQ thread: it must exist first.
		first = rt.loops[:1]
	}
	err := rt.start(first, ready)
	if len(first) < len(rt.loops) {
		if err == nil {
			err = rt.start(rt.loops[1:], ready)
		} else {
			// Loop 0 failed before the others started: they never will, so Close
			// must not post to them (their inboxes were never set up).
			for _, l := range rt.loops[1:] {
				l.markExited()
			}
		}
	}
	go func() { rt.stopped.Wait(); close(rt.done) }()
	if err != nil {
		_ = rt.Close(context.Background())
		return nil, err
	}
	rt.decision = rt.loops[0].decision
	return rt, nil
}

// place reads the machine's topology and plans where each loop runs.
func (rt *Runtime) place() error {
	top, err := numa.Read()
	if err != nil {
		return fmt.Errorf("zokio/runtime: reading the CPU topology: %w", err)
	}
	plan, err := top.Plan(numa.PlanOptions{Loops: rt.opts.Loops, CPUs: numa.NewCPUList(rt.opts.CPUs...), Strategy: rt.opts.Placement})
	if err != nil {
		return fmt.Errorf("zokio/runtime: placing loops: %w", err)
	}
	rt.plan = plan
	return nil
}

// decideSQPoll settles the SQPOLL mode once for every ring: only io_uring has one.
func (rt *Runtime) decideSQPoll() error {
	dec, err := driver.Choose(rt.opts.Driver)
	if err != nil {
		return err
	}
	if dec.Kind != driver.Uring {
		rt.sq = sqpoll.Config{Mode: sqpoll.Off}
		rt.sqDec = sqpoll.Decision{Mode: sqpoll.Off, Reason: "no SQ thread: the " + string(dec.Kind) + " driver has none"}
		return nil
	}
	rt.sq, rt.sqDec, err = sqpoll.Decide(rt.opts.SQPoll)
	return err
}

// start runs loops and waits until each has its driver or failed.
func (rt *Runtime) start(loops []*Loop, ready chan error) error {
	for _, l := range loops {
		rt.stopped.Add(1)
		go l.run(ready)
	}
	var first error
	for range loops {
		if err := <-ready; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Plan returns where the loops run: CPU, node, and the CPU for each ring's SQ thread.
func (rt *Runtime) Plan() *numa.Plan { return rt.plan }

// SQPoll returns the SQPOLL decision the rings run on, and why.
func (rt *Runtime) SQPoll() sqpoll.Decision {
	rt.sqMu.Lock()
	defer rt.sqMu.Unlock()
	return rt.sqDec
}

// Loops returns the runtime's loops, indexed by their ID.
func (rt *Runtime) Loops() []*Loop { return rt.loops }

// Driver returns the driver decision the loops run on: which driver and why.
func (rt *Runtime) Driver() driver.Decision { return rt.decision }

// Spawn runs fn on one of the runtime's loops. The task may be stolen by an idle loop
// before it runs, so fn must not assume which loop runs it. A Spawn that returns nil
// happens before fn runs. Safe for concurrent use.
func (rt *Runtime) Spawn(fn func()) error {
	if fn == nil {
		return errNilFunc
	}
	l := rt.loops[rt.next.Add(1)%uint32(len(rt.loops))]
	return l.post(fn, true)
}

// SpawnOn runs fn on loop l, and only there: it is never stolen. It is Post under the
// name the runtime's spawn family uses.
func (rt *Runtime) SpawnOn(l *Loop, fn func()) error { return l.Post(fn) }

var errNilFunc = errors.New("zokio/runtime: nil function")

// Closed reports whether Close has begun: from then on the runtime refuses new work
// with ErrClosed. Packages with a path around the loops (zfile's page-cache reads)
// use it to refuse the same work the same way. Safe for concurrent use.
func (rt *Runtime) Closed() bool { return rt.closing.Load() }

// Close stops the runtime gracefully. New work is refused with ErrClosed from the
// moment Close begins. Each loop then runs the tasks already queued, drops its timers,
// cancels every op in flight and delivers their completions (closing its driver), and
// exits, ending its OS thread. Close returns when every loop has stopped, or returns
// ctx.Err() if ctx ends first (the loops still stop in the background). Afterwards no
// goroutine, descriptor, ring mapping or thread of the runtime remains. (One detail of
// Go's: a loop that happened to run on the process's main thread leaves it parked
// rather than ended, since Go never ends the main thread.) Close must not be called on
// one of the runtime's loops: it waits for that loop to stop, which it cannot while it
// waits; from a loop, start it in a goroutine.
func (rt *Runtime) Close(ctx context.Context) error {
	rt.closeMu.Lock()
	if !rt.closing.Swap(true) {
		for _, l := range rt.loops {
			l.requestStop()
		}
	}
	rt.closeMu.Unlock()
	select {
	case <-rt.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	var errs []error
	for _, l := range rt.loops {
		if l.closeErr != nil {
			errs = append(errs, fmt.Errorf("loop %d: %w", l.id, l.closeErr))
		}
	}
	return errors.Join(errs...)
}

// wakeThief wakes one sleeping loop to steal from a loop whose queue grew, unless one
// is already on its way.
func (rt *Runtime) wakeThief(from *Loop) {
	if rt.sleepers.Load() == 0 || rt.thief.Load() || !rt.thief.CompareAndSwap(false, true) {
		return
	}
	n := len(rt.loops)
	start := int(from.rand() % uint32(n))
	for i := 0; i < n; i++ {
		l := rt.loops[(start+i)%n]
		if l != from && l.inbox.sleeping.Load() && l.inbox.sleeping.CompareAndSwap(true, false) {
			l.stats.thiefWakes.Add(1)
			_ = l.d.Wake()
			return
		}
	}
	rt.thief.Store(false) // nobody was asleep after all
}

//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package poller

import (
	"fmt"
	"math"
	"syscall"
	"time"
)

// The readiness core's API for driver implementers. Drivers in this module built on a
// readiness kernel (Epoll here, the kqueue driver in package kqueue) share one core:
// per-descriptor FIFO queues, retries, FlagLink chains, timers, the file-op worker pool
// and buffer groups. A driver supplies a Backend (registration, waiting, the wake) and
// forwards the Driver methods to a Core.

// Backend is what the readiness core needs from a readiness kernel (epoll, kqueue).
// The core calls it only from the goroutine that owns the driver, except Signal.
type Backend interface {
	// Arm makes the kernel report readiness of fd, whose queues hold ops that saw
	// EAGAIN. r is the backend's record of fd, kept by the core and reset to zero when
	// the number is closed through the driver or handed out again by accept or
	// openat; with edge-triggered registration, Arm of a descriptor already
	// registered does nothing. It returns 0, or the errno that makes fd unwaitable
	// (EPERM: the kernel cannot poll it; EBADF: it is closed). A backend that batches
	// its changes into the next wait reports a change's failure there, through
	// [Core.Fail].
	Arm(fd int, r *Registration) syscall.Errno
	// Disarm removes fd from the interest set, before the core closes it.
	Disarm(fd int, r *Registration)
	// Poll waits up to timeout nanoseconds (0: not at all; negative: no limit), calls
	// [Core.Ready] for each descriptor reported, and reports whether the driver's
	// Wake fired. An interrupted wait returns (false, nil).
	Poll(timeout int64) (woken bool, err error)
	// Signal makes a concurrent or the next Poll return, without counting as a Wake
	// (Wakeup.Signal): the core's workers call it when a file op finished. Safe for
	// concurrent use.
	Signal() error
	// Owns reports descriptors the backend uses itself; ops on them get EBADF.
	Owns(fd int) bool
}

// Registration is a Backend's per-descriptor record, stored in the core's descriptor
// table so that a backend needs no table of its own.
type Registration struct {
	// Armed: the kernel will report the descriptor's next readiness edge.
	Armed bool
	// Added: the descriptor is in the kernel's interest set (perhaps disabled, as an
	// EPOLLONESHOT registration after its event), so Disarm must remove it.
	Added bool
}

// CoreConfig holds the limits of a Core; zero fields get the defaults, which are
// those of EpollConfig.
type CoreConfig struct {
	Workers               int // goroutines that run file and path ops; 0 means 4
	MaxQueuedFileOps      int // file ops handed to the workers and not yet completed; 0 means 64
	MaxAttemptsPerFd      int // syscalls per descriptor and direction in one Wait; 0 means 16
	MaxCompletionsPerWait int // completions one Wait delivers; 0 means 256
}

func (cfg CoreConfig) core() (emulConfig, error) {
	def := func(v, d int) int {
		if v == 0 {
			return d
		}
		return v
	}
	c := emulConfig{
		workers:   def(cfg.Workers, 4),
		maxQueued: def(cfg.MaxQueuedFileOps, 64),
		perFd:     def(cfg.MaxAttemptsPerFd, 16),
		batch:     def(cfg.MaxCompletionsPerWait, 256),
	}
	if min(c.workers, c.maxQueued, c.perFd, c.batch) < 0 || c.maxQueued > math.MaxInt32 {
		return c, fmt.Errorf("poller: negative or too large driver config field: %w", syscall.EINVAL)
	}
	return c, nil
}

// Core is the readiness-emulation core for a driver outside this package: it keeps
// the Driver contract (exactly-once completions, custody, cancellation, descriptor
// close discipline, Close) on top of a Backend. The driver forwards Submit, Cancel,
// Wait, NewBufferGroup and its Close to it.
//
// A Core is used only by the goroutine that owns its driver. It must be set up by
// Init (a zero Core refuses everything with ErrClosed) and not copied after.
type Core struct {
	_ noCopy
	e emul
}

// Init sets the core up on backend b; name is the driver's name, used in errors. It
// starts no goroutine (the workers start with the first file op).
func (c *Core) Init(b Backend, name string, cfg CoreConfig) error {
	core, err := cfg.core()
	if err != nil {
		return err
	}
	c.e.init(b, name, core)
	return nil
}

func (c *Core) live() bool { return c.e.k != nil }

// Submit implements Driver.Submit.
func (c *Core) Submit(op *Op) error {
	if !c.live() {
		return ErrClosed
	}
	return c.e.submit(op)
}

// Cancel implements Driver.Cancel.
func (c *Core) Cancel(op *Op) error {
	if !c.live() {
		return ErrNotInFlight
	}
	return c.e.cancel(op)
}

// Wait implements Driver.Wait, calling the Backend's Poll.
func (c *Core) Wait(timeout time.Duration) (int, error) {
	if !c.live() {
		return 0, ErrClosed
	}
	return c.e.wait(timeout)
}

// NewBufferGroup implements Driver.NewBufferGroup: count buffers in one anonymous
// mapping, unmapped by Shutdown.
func (c *Core) NewBufferGroup(count, size int) (BufferGroup, error) {
	if !c.live() {
		return nil, ErrClosed
	}
	return c.e.newBufferGroup(count, size)
}

// Closed reports whether the core was never set up or has been shut down.
func (c *Core) Closed() bool { return !c.live() || c.e.closed }

// Shutdown is the op side of Driver.Close: every op in flight completes (Done runs
// inside it), with ECANCELED or its real result, the workers exit and the buffer
// groups are unmapped. The Backend is still used meanwhile (Disarm, Signal), so the
// driver releases its kernel objects after Shutdown returns.
func (c *Core) Shutdown() {
	if c.live() && !c.e.closed {
		c.e.shutdown()
	}
}

// Ready records readiness the Backend's Poll saw on fd, as poll(2) revents bits
// (POLLIN, POLLOUT, POLLERR, POLLHUP, and PollRdHup for the peer's shutdown of its
// writing half). connErr, if not 0, is the error of a failed connect as the kernel
// reported it with the event (kqueue's EV_EOF fflags); a connect then completes with
// it if SO_ERROR reads 0.
func (c *Core) Ready(fd int, revents uint32, connErr syscall.Errno) {
	if f := c.e.fds.peek(fd); f != nil && connErr != 0 {
		f.connErr = connErr
	}
	c.e.onReady(fd, revents)
}

// Fail completes every op queued on fd with -errno and clears its Registration: a
// backend that batches registrations calls it for a change the kernel refused.
func (c *Core) Fail(fd int, errno syscall.Errno) {
	f := c.e.fds.peek(fd)
	if f == nil {
		return
	}
	f.reg = Registration{}
	c.e.failQueued(f, errno)
	c.e.runLinks()
}

// Counters returns the core's Stats. The core counts Submitted and Completions; the
// Backend adds its Enters (kernel waits) and Wakeups (Wakes consumed) there.
func (c *Core) Counters() *Stats { return &c.e.stats }

// InFlight implements InFlightReporter.
func (c *Core) InFlight(dst []InFlightOp) []InFlightOp {
	if !c.live() {
		return dst
	}
	return c.e.InFlight(dst)
}

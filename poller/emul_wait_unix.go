//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package poller

import (
	"time"

	"golang.org/x/sys/unix"
)

// The delivery side of the readiness core: the completion queue, Wait and Close.

// completion is one result waiting for delivery. gen pins the slot generation the
// result belongs to, so a completion can never reach a recycled slot's op.
type completion struct {
	slot  int32
	gen   uint32
	res   int32
	flags ResultFlags
	buf   uint16
}

// compQueue is a growable FIFO ring of completions; its capacity is a power of two
// and, once grown to the working set, push allocates nothing.
type compQueue struct {
	buf  []completion
	head int
	n    int
}

func (q *compQueue) push(c completion) {
	if q.n == len(q.buf) {
		q.grow()
	}
	q.buf[(q.head+q.n)&(len(q.buf)-1)] = c
	q.n++
}

func (q *compQueue) pop() completion {
	c := q.buf[q.head]
	q.head = (q.head + 1) & (len(q.buf) - 1)
	q.n--
	return c
}

func (q *compQueue) grow() {
	nb := make([]completion, max(64, 2*len(q.buf)))
	for i := 0; i < q.n; i++ {
		nb[i] = q.buf[(q.head+i)&(len(q.buf)-1)]
	}
	q.buf, q.head = nb, 0
}

// wait implements Driver.Wait. Each round polls the kernel (without blocking when
// completions or leftover readiness are waiting), retries ready descriptors, reaps
// worker results, fires timers, and delivers at most cfg.batch completions. It
// returns after a round that delivered something or saw a Wake, or at the deadline.
// While cfg.batch completions are already queued it delivers without polling, so a
// slow consumer bounds what the core produces.
func (e *emul) wait(timeout time.Duration) (int, error) {
	if e.closed {
		return 0, ErrClosed
	}
	if e.inWait {
		return 0, ErrReentrant
	}
	e.inWait = true
	defer e.endWait()
	if e.chainTail != 0 {
		e.closeChain()
		e.runLinks()
	}
	deadline := int64(-1)
	if timeout >= 0 {
		deadline = e.deadline(timeout)
	}
	for {
		woken := false
		if e.comp.n < e.cfg.batch {
			w, err := e.k.Poll(e.pollTimeout(deadline))
			if err != nil {
				return 0, err
			}
			woken = w
			e.runReady()
			e.reap()
			e.fireTimers()
			e.runLinks()
		}
		n := e.deliver(e.cfg.batch)
		if n > 0 || woken || e.closed {
			return n, nil
		}
		if deadline >= 0 && e.now() >= deadline {
			return 0, nil
		}
	}
}

func (e *emul) endWait() { e.inWait = false }

// pollTimeout is how long the kernel wait may block: not at all when work is waiting,
// else until the earlier of the caller's deadline and the nearest timer.
func (e *emul) pollTimeout(deadline int64) int64 {
	if e.comp.n > 0 || len(e.ready) > 0 {
		return 0
	}
	now := e.now()
	t := int64(-1)
	if deadline >= 0 {
		t = max(deadline-now, 0)
	}
	if _, when, ok := e.timers.peek(); ok {
		if d := max(when-now, 0); t < 0 || d < t {
			t = d
		}
	}
	return t
}

// deliver calls Done for up to limit queued completions, in order. A final
// completion frees its slot before Done runs, so Done may submit the op again.
func (e *emul) deliver(limit int) int {
	n := 0
	for n < limit && e.comp.n > 0 {
		c := e.comp.pop()
		s := e.slot(c.slot)
		if s.gen != c.gen || s.op == nil {
			panic("poller: completion for a recycled slot")
		}
		op := s.op
		if c.flags&ResMore == 0 {
			e.release(c.slot, s)
		}
		n++
		e.stats.Completions++
		op.Complete(c.res, c.flags, c.buf)
	}
	return n
}

// shutdown implements the op side of Driver.Close: every op still in flight completes
// with ECANCELED, except those a worker is running (their real result, so an opened
// descriptor is never lost) and OpClose ops under way (the descriptor is closed and
// the real result reported, since a cancelled close could not be retried safely).
// Done runs for all of them before shutdown returns. The workers have exited then.
func (e *emul) shutdown() {
	e.closed = true
	e.chainHead, e.chainTail = 0, 0
	for i := int32(1); i <= e.nslots; i++ {
		if s := e.slot(i); s.state != stClosing {
			e.cancelSlot(i, s, unix.ECANCELED, false)
		}
	}
	e.runLinks()
	e.pool.stop()
	e.reap()
	e.runLinks()
	for e.comp.n > 0 {
		e.deliver(e.comp.n)
	}
	for _, g := range e.groups {
		g.free()
	}
	e.groups = nil
}

func (e *emul) group(id uint16) *emulGroup {
	if int(id) < len(e.groups) {
		return e.groups[id]
	}
	return nil
}

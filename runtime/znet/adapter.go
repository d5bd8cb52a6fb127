package znet

import (
	"context"
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/zokio/zokio/internal/loopclose"
	"github.com/zokio/zokio/poller"
	"github.com/zokio/zokio/runtime"
)

// fdRef is the descriptor lifecycle of an adapter (NetConn, Listener, PacketConn), as
// Go's internal/poll.fdMutex keeps it: every blocking call holds a reference while it
// uses the descriptor, Close marks it closed (new calls fail with net.ErrClosed) and
// wakes the calls in flight through their deadlines' channels, and whoever drops the
// last reference closes the descriptor through its loop's driver. So the number is
// never released while an op of ours may still be submitted on it, and a call that
// races with Close cannot reach a reused number (docs/RELIABILITY.md trap 4).
//
// The word holds the closed bit and the count of references. It is safe for
// concurrent use by multiple goroutines; each operation is one sequentially
// consistent atomic, so a reference taken before the closed bit is set is seen by the
// Close that sets it, and one attempted after fails.
type fdRef struct{ v atomic.Uint64 }

const refClosed = 1 << 63

// incref takes a reference; false if the descriptor is closed.
func (r *fdRef) incref() bool {
	for {
		v := r.v.Load()
		if v&refClosed != 0 {
			return false
		}
		if r.v.CompareAndSwap(v, v+1) {
			return true
		}
	}
}

// decref drops a reference and reports whether it was the last one after Close.
func (r *fdRef) decref() bool { return r.v.Add(^uint64(0)) == refClosed }

// markClosed sets the closed bit. first is false if it was already set; last is true
// if no reference was held, so the caller closes the descriptor.
func (r *fdRef) markClosed() (first, last bool) {
	for {
		v := r.v.Load()
		if v&refClosed != 0 {
			return false, false
		}
		if r.v.CompareAndSwap(v, v|refClosed) {
			return true, v == 0
		}
	}
}

// closeThrough closes fd through l's driver; see loopclose.Close, which never leaves
// the descriptor open.
func closeThrough(l *runtime.Loop, fd int) error { return loopclose.Close(l, fd, closeFd) }

// mapErr turns what runtime.Loop.Do returned for an adapter's op into the error Go's
// net package would put in its *net.OpError: net.ErrClosed after Close (or when the
// runtime closes), os.ErrDeadlineExceeded after a deadline, *os.SyscallError for the
// kernel's errors.
// maxRW caps the bytes of one op an adapter or a connection starts, as Go's net caps a
// system call (internal/poll's maxRW, 1 GiB): a driver takes at most poller.MaxRW per
// op, so a Read of a larger buffer is a short read and a Write goes out in pieces. It is
// a variable only so that tests can make the pieces small.
var maxRW = 1 << 30

func mapErr(d *deadline, syscallName string, err error) error {
	var errno syscall.Errno
	switch {
	case errors.Is(err, context.Canceled) && d.isShut():
		return net.ErrClosed
	case errors.Is(err, os.ErrDeadlineExceeded):
		return os.ErrDeadlineExceeded
	case errors.Is(err, net.ErrClosed):
		return net.ErrClosed
	case errors.As(err, &errno):
		if errno == eCanceled && d.isShut() {
			return net.ErrClosed
		}
		return os.NewSyscallError(syscallName, hostErrno(errno))
	}
	return err
}

// checkDeadline returns the error a call must fail with before it starts: closed or
// past its deadline.
func checkDeadline(d *deadline) error {
	switch d.Err() {
	case nil:
		return nil
	case os.ErrDeadlineExceeded:
		return os.ErrDeadlineExceeded
	}
	return net.ErrClosed
}

// loopFor picks the loop a new adapter's ops run on, in turn across rt's loops.
//
// Callers check rt with runtimeErr first.
func loopFor(rt *runtime.Runtime) *runtime.Loop {
	loops := rt.Loops()
	return loops[int(nextLoop.Add(1)-1)%len(loops)]
}

var nextLoop atomic.Uint32

var errNilRuntime = errors.New("znet: nil runtime")

// runtimeErr is why Listen, ListenPacket or Dial cannot use rt: there is none, or it
// is closed (runtime.ErrClosed, which matches net.ErrClosed), so that no socket is
// opened whose ops could never run. (Serve checks only for nil: its set-up on the
// loops fails on a closed runtime, and undoes itself.)
func runtimeErr(rt *runtime.Runtime) error {
	switch {
	case rt == nil:
		return errNilRuntime
	case rt.Closed():
		return runtime.ErrClosed
	}
	return nil
}

// opSlot is the op an adapter reuses for one kind of blocking call. runtime.Loop.Do,
// when the call's context ends, posts a task that cancels the op, and returns as soon
// as the op completes — possibly before that task has run, which then still reads the
// op. So after a call whose deadline channel closed, the op is retired (left to the
// collector with the late task) and the next call takes a fresh one: reuse never
// races with a late cancel, and the steady state, where deadlines do not fire, makes
// no allocation. Guarded by the caller's mutex for that kind of call.
type opSlot struct{ op *poller.Op }

// do runs op on l through Do with d as its context.
func (s *opSlot) do(l *runtime.Loop, d *deadline, op poller.Op) (int32, error) {
	if s.op == nil {
		s.op = new(poller.Op)
	}
	*s.op = op
	ch := d.Done() // Do waits on this channel, or on a later one only if this one closed
	res, err := l.Do(d, s.op)
	select {
	case <-ch:
		s.op = nil
		if errors.Is(err, syscall.ECANCELED) {
			// ch's closing cancelled the op. Do asks the deadline why only after the
			// op completed, and a deadline moved back meanwhile says nothing: the
			// cause is the closing, which is for good, or else the expiry.
			if d.isShut() {
				err = net.ErrClosed
			} else {
				err = os.ErrDeadlineExceeded
			}
		}
	default:
		s.op.Buf, s.op.Bufs, s.op.Addr = nil, nil, nil // do not keep the caller's memory
	}
	return res, err
}

// deadline is one direction's deadline (read, write or accept) of an adapter, and the
// context its blocking calls pass to runtime.Loop.Do: Done returns a channel that is
// closed when the deadline passes or the connection closes, and Do then cancels the op
// in flight and waits for its completion, so no result is lost. It follows net.Pipe's
// pipeDeadline: a closed channel is replaced when the deadline moves back into the
// future, so a call that starts later waits on a fresh one.
//
// A deadline is safe for concurrent use by multiple goroutines: SetDeadline may run
// while a Read is blocked, and moving the deadline into the past unblocks it (net/http
// relies on that to abort a background read). Its timer is reused across Sets, so
// setting deadlines allocates nothing after the first; the timer's function runs on a
// goroutine of Go's timer system only when a deadline actually passes. A deadline must
// not be copied after first use.
type deadline struct {
	_      noCopy
	mu     sync.Mutex
	timer  *time.Timer   // made on the first future deadline; stopped, not dropped
	when   time.Time     // zero: none
	ch     chan struct{} // closed when expired or shut; replaced on re-arm
	seq    uint64        // bumped by every set, so a stale timer firing is ignored
	armed  uint64        // the seq the timer was armed for
	expire bool          // ch was closed because the deadline passed
	shut   bool          // the connection is closed: ch stays closed for good
}

// init prepares d; call it once before use.
func (d *deadline) init() { d.ch = make(chan struct{}) }

// set moves the deadline to t (the zero time: no deadline), re-arming the timer and
// replacing the closed channel if t is in the future, closing it if t has passed.
func (d *deadline) set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.shut {
		return
	}
	d.seq++
	if d.timer != nil {
		d.timer.Stop()
	}
	d.when = t
	if d.expire { // the old deadline closed ch; a new call needs a fresh one
		d.ch = make(chan struct{})
		d.expire = false
	}
	if t.IsZero() {
		return
	}
	dur := time.Until(t)
	if dur <= 0 {
		close(d.ch)
		d.expire = true
		return
	}
	d.armed = d.seq
	if d.timer == nil {
		d.timer = time.AfterFunc(dur, d.fire)
	} else {
		d.timer.Reset(dur)
	}
}

// fire runs on a timer goroutine when the deadline armed at seq passes.
func (d *deadline) fire() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.shut || d.expire || d.armed != d.seq || d.when.IsZero() || time.Until(d.when) > 0 {
		return // re-armed or cleared since: not ours
	}
	close(d.ch)
	d.expire = true
}

// shutdown closes the channel for good: the connection is closed.
func (d *deadline) shutdown() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.shut {
		return
	}
	d.shut = true
	if d.timer != nil {
		d.timer.Stop()
	}
	if !d.expire {
		close(d.ch)
	}
}

// isShut reports whether the connection is closed.
func (d *deadline) isShut() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.shut
}

// The context.Context view, for runtime.Loop.Do.

// Deadline reports the deadline, if one is set.
func (d *deadline) Deadline() (time.Time, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.when, !d.when.IsZero()
}

// Done returns the channel a blocking call waits on.
func (d *deadline) Done() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ch
}

// Err says why Done's channel closed; callers map it to net's errors themselves.
func (d *deadline) Err() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case d.shut:
		return context.Canceled
	case d.expire:
		return os.ErrDeadlineExceeded
	}
	return nil
}

// Value returns nil: the context carries no values.
func (d *deadline) Value(any) any { return nil }

var _ context.Context = (*deadline)(nil)

// noCopy makes go vet's copylocks check report copies of the struct that embeds it.
type noCopy struct{}

// Lock and Unlock are for go vet's copylocks check only.
func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}

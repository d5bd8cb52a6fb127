package runtime

import (
	"context"
	"sync"
	"sync/atomic"
)

// Call runs fn on l and waits until it has returned. It allocates nothing in steady
// state (the waiter is pooled and carries its own task), so it is the cheapest way for
// a goroutine to run code on a loop, as when handing it work and needing the answer.
//
// If ctx ends before fn has started, Call returns ctx's error and fn still runs later
// (it is already queued), so fn must not rely on the caller still waiting. Call must
// not be called on a loop: it would block the loop waiting for itself. A nil ctx is
// taken as context.Background().
func (l *Loop) Call(ctx context.Context, fn func()) error {
	if fn == nil {
		return errNilFunc
	}
	ctx = orBackground(ctx)
	w := callWaiters.Get().(*callWaiter)
	w.fn = fn
	w.state.Store(callPending)
	w.l = l
	if err := l.postTask(&w.task, w.runFn); err != nil {
		w.fn = nil
		callWaiters.Put(w)
		return err
	}
	if w.wait(ctx, l.rt.opts.SpinBeforePark.Nanoseconds()) {
		w.fn = nil
		callWaiters.Put(w)
		return nil
	}
	// ctx ended first: the loop still holds the waiter and will run fn; the waiter is
	// left to the collector rather than reused under the loop's feet.
	return ctx.Err()
}

// callWaiter states. The caller and the loop settle who wakes whom with one CAS each:
// the caller moves pending → parked before blocking on ch; the loop swaps in done and
// sends on ch only if it found parked. Neither can miss the other.
const (
	callPending int32 = iota
	callParked
	callDone
)

type callWaiter struct {
	l     *Loop
	task  task
	fn    func()
	state atomic.Int32
	ch    chan struct{}
	runFn func()
}

var callWaiters = sync.Pool{New: func() any {
	w := &callWaiter{ch: make(chan struct{}, 1)}
	w.task.external = true
	w.runFn = w.run
	return w
}}

// run is the task: on the loop.
func (w *callWaiter) run() {
	w.fn()
	if w.state.Swap(callDone) == callParked {
		w.l.readied = true
		w.ch <- struct{}{}
	}
}

// wait reports whether fn finished (true) or ctx ended first (false).
func (w *callWaiter) wait(ctx context.Context, spin int64) bool {
	if spin > 0 {
		end := nanotime() + spin
		for i := 0; ; i++ {
			if w.state.Load() == callDone {
				return true
			}
			if i&63 == 63 && nanotime() >= end {
				break
			}
		}
	}
	if !w.state.CompareAndSwap(callPending, callParked) {
		return true // done meanwhile
	}
	select {
	case <-w.ch:
		return true
	case <-ctx.Done():
		return false
	}
}

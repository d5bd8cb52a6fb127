package runtime

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
)

// Future is a value that becomes available later, exactly once: the result of an op, a
// timer, or a computation on a loop. It is safe for concurrent use by multiple
// goroutines.
//
// Complete happens before every Await, Result, Done-channel receive and Then callback
// that observes the completion.
type Future[T any] struct {
	done  atomic.Bool
	mu    sync.Mutex
	val   T
	err   error
	ch    chan struct{} // closed at completion; made on first demand
	thens []then[T]
	// cancel asks the work behind the future to stop and reports whether that will
	// complete the future; called at most once. settles records a true answer.
	cancel  func() bool
	settles bool
}

type then[T any] struct {
	l  *Loop
	fn func(T, error)
}

// NewFuture returns a future to be completed with Complete.
func NewFuture[T any]() *Future[T] { return &Future[T]{} }

// Ready returns a future already completed with v.
func Ready[T any](v T) *Future[T] {
	f := &Future[T]{}
	f.Complete(v, nil)
	return f
}

// Failed returns a future already completed with err.
func Failed[T any](err error) *Future[T] {
	f := &Future[T]{}
	var zero T
	f.Complete(zero, err)
	return f
}

// Complete sets the future's result. Only the first call has an effect; it reports
// whether this call was it. Then callbacks are posted to their loops; a callback whose
// loop has stopped is dropped.
func (f *Future[T]) Complete(v T, err error) bool {
	f.mu.Lock()
	if f.done.Load() {
		f.mu.Unlock()
		return false
	}
	f.val, f.err = v, err
	f.done.Store(true)
	thens, ch := f.thens, f.ch
	f.thens, f.cancel = nil, nil
	f.mu.Unlock()
	if ch != nil {
		close(ch)
	}
	for _, t := range thens {
		if t.l == nil { // a combinator's hook: runs here
			t.fn(v, err)
			continue
		}
		fn := t.fn
		_ = t.l.Post(func() { fn(v, err) })
	}
	return true
}

// OnCancel sets the function Cancel calls: it should make the work behind the future
// stop and complete the future (with a cancellation error, or with the real result if
// that won the race). Set it before handing the future out. A nil fn removes the cancel
// function.
func (f *Future[T]) OnCancel(fn func()) {
	if fn == nil {
		f.setCancel(nil)
		return
	}
	f.setCancel(func() bool { fn(); return true })
}

// setCancel is OnCancel for cancel functions that know whether they will complete the
// future (combinators, whose inputs may not be cancellable).
func (f *Future[T]) setCancel(fn func() bool) {
	f.mu.Lock()
	f.cancel = fn
	f.mu.Unlock()
}

// Cancel asks the work behind the future to stop. The future still completes, with a
// cancellation error or with its real result. It does nothing on a completed future or
// one without a cancel function.
func (f *Future[T]) Cancel() { f.tryCancel() }

// tryCancel is Cancel, reporting whether the future is completed or will be: false
// when nothing can stop its work.
func (f *Future[T]) tryCancel() bool {
	f.mu.Lock()
	if f.done.Load() {
		f.mu.Unlock()
		return true
	}
	fn := f.cancel
	f.cancel = nil
	settles := f.settles
	f.mu.Unlock()
	if fn == nil {
		return settles // an earlier Cancel may already be settling it
	}
	if fn() {
		f.mu.Lock()
		f.settles = true
		f.mu.Unlock()
		return true
	}
	return f.done.Load()
}

// IsDone reports whether the future has completed.
func (f *Future[T]) IsDone() bool { return f.done.Load() }

// Result returns the future's value and error, and whether it has completed.
func (f *Future[T]) Result() (T, error, bool) {
	if !f.done.Load() {
		var zero T
		return zero, nil, false
	}
	return f.val, f.err, true
}

// Done returns a channel closed when the future completes.
func (f *Future[T]) Done() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ch == nil {
		f.ch = make(chan struct{})
		if f.done.Load() {
			close(f.ch)
		}
	}
	return f.ch
}

// Then calls fn with the result on loop l once the future completes (at once, through
// l's queue, if it already has). It returns ErrClosed if l's runtime is closing, and
// an error without registering anything for a nil l or fn.
func (f *Future[T]) Then(l *Loop, fn func(T, error)) error {
	switch {
	case fn == nil:
		return errNilFunc
	case l == nil:
		return errNilLoop
	}
	f.mu.Lock()
	if !f.done.Load() {
		if l.rt.closing.Load() {
			f.mu.Unlock()
			return ErrClosed // the callback could never be posted
		}
		f.thens = append(f.thens, then[T]{l, fn})
		f.mu.Unlock()
		return nil
	}
	f.mu.Unlock()
	v, err := f.val, f.err
	return l.Post(func() { fn(v, err) })
}

// Await parks the calling goroutine until the future completes or ctx ends; it never
// polls. When ctx ends first, Await cancels the future's work and waits for it to
// settle, so that no result is lost (docs/RELIABILITY.md C3): if the work still completed
// successfully, Await returns its value and a nil error; otherwise it returns ctx's
// error. A future whose work cannot be stopped (no cancel function; a combinator whose
// pending inputs have none) makes Await return ctx's error at once. A nil ctx is taken
// as context.Background(). Await must not be called on a loop: it would block the loop.
func (f *Future[T]) Await(ctx context.Context) (T, error) {
	if f.done.Load() {
		return f.val, f.err
	}
	ctx = orBackground(ctx)
	select {
	case <-f.Done():
		return f.val, f.err
	case <-ctx.Done():
	}
	if !f.tryCancel() {
		var zero T
		return zero, ctx.Err() // nothing can stop the work: do not wait for it
	}
	<-f.Done()
	if f.err == nil {
		return f.val, nil
	}
	var zero T
	if isCancellation(f.err) {
		return zero, ctx.Err()
	}
	return zero, f.err
}

// isCancellation reports whether err says the work was stopped rather than failed.
func isCancellation(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, errCanceledOp)
}

// BlockOn runs fn on a loop of rt and waits for the future it returns. fn runs on the
// loop, so it may submit ops, arm timers and spawn tasks there, chaining them with Then
// into the future it returns (nested asynchronous calls). Cancelling ctx cancels that
// future. A nil ctx is taken as context.Background(); a nil rt or fn is refused with
// an error. BlockOn must not be called on a loop.
func BlockOn[T any](ctx context.Context, rt *Runtime, fn func(l *Loop) *Future[T]) (T, error) {
	switch {
	case fn == nil:
		var zero T
		return zero, errNilFunc
	case rt == nil:
		var zero T
		return zero, errNilRuntime
	}
	out := NewFuture[T]()
	l := rt.loops[rt.next.Add(1)%uint32(len(rt.loops))]
	var inner atomic.Pointer[Future[T]]
	var cancelled atomic.Bool
	// The cancel hook records the request before it looks for the inner future, and
	// the task publishes the inner future before it looks for a request (both
	// sequentially consistent): one of them sees the other, so a cancellation that
	// comes before fn has run is not lost.
	out.setCancel(func() bool {
		cancelled.Store(true)
		if f := inner.Load(); f != nil {
			return f.tryCancel()
		}
		return true // the task will cancel the inner future, or settle out itself
	})
	err := l.Post(func() {
		f := fn(l)
		if f == nil {
			var zero T
			out.Complete(zero, errNilFuture)
			return
		}
		inner.Store(f)
		if cancelled.Load() && !f.tryCancel() {
			var zero T
			out.Complete(zero, errCanceledOp) // nothing stops f: Await returns ctx's error
			return
		}
		// Completing out is safe on any goroutine, so it happens wherever f completes:
		// no second trip through the loop's queue.
		f.onComplete(func(v T, err error) { out.Complete(v, err) })
	})
	if err != nil {
		var zero T
		return zero, err
	}
	if d := rt.opts.SpinBeforePark; d > 0 {
		end := nanotime() + int64(d)
		for i := 0; !out.done.Load(); i++ {
			if i&63 == 63 && nanotime() >= end {
				break
			}
		}
	}
	return out.Await(ctx)
}

var (
	errNilFuture  = errors.New("zokio/runtime: BlockOn function returned a nil future")
	errNilLoop    = errors.New("zokio/runtime: nil Loop")
	errNilRuntime = errors.New("zokio/runtime: nil Runtime")
	errNilInput   = errors.New("zokio/runtime: nil future given to All, Race or Any")
)

// nonNil returns fs with every nil input replaced by a future failed with errNilInput,
// so that a combinator given one fails clearly instead of crashing; fs itself is
// copied only when it holds a nil.
func nonNil[T any](fs []*Future[T]) []*Future[T] {
	out := fs
	for i, f := range fs {
		if f != nil {
			continue
		}
		if &out[0] == &fs[0] {
			out = append([]*Future[T](nil), fs...)
		}
		out[i] = Failed[T](errNilInput)
	}
	return out
}

// All returns a future of every input's value, in order. It fails with the first error,
// cancelling the inputs still running. A nil input fails it.
func All[T any](fs ...*Future[T]) *Future[[]T] {
	fs = nonNil(fs)
	out := NewFuture[[]T]()
	vals := make([]T, len(fs))
	var left atomic.Int64
	left.Store(int64(len(fs)))
	if len(fs) == 0 {
		out.Complete(vals, nil)
		return out
	}
	out.setCancel(func() bool { _, n := cancelAll(fs); return n > 0 }) // one cancelled input fails All
	for i, f := range fs {
		f.onComplete(func(v T, err error) {
			if err != nil {
				if out.Complete(nil, err) {
					cancelAll(fs)
				}
				return
			}
			vals[i] = v
			if left.Add(-1) == 0 {
				out.Complete(vals, nil)
			}
		})
	}
	return out
}

// Race returns a future of the first input to complete, with its value or error; the
// others are cancelled. Race of no futures fails at once with ErrNoFutures; a nil
// input is a failed one.
func Race[T any](fs ...*Future[T]) *Future[T] {
	fs = nonNil(fs)
	out := NewFuture[T]()
	if len(fs) == 0 {
		var zero T
		out.Complete(zero, ErrNoFutures)
		return out
	}
	out.setCancel(func() bool { _, n := cancelAll(fs); return n > 0 }) // one settled input ends the race
	for _, f := range fs {
		f.onComplete(func(v T, err error) {
			if out.Complete(v, err) {
				cancelAll(fs)
			}
		})
	}
	return out
}

// Any returns a future of the first input to succeed; the others are cancelled. If all
// fail, it fails with their errors joined. Any of no futures fails at once with
// ErrNoFutures; a nil input is a failed one.
func Any[T any](fs ...*Future[T]) *Future[T] {
	fs = nonNil(fs)
	out := NewFuture[T]()
	if len(fs) == 0 {
		var zero T
		out.Complete(zero, ErrNoFutures)
		return out
	}
	// Any settles only when every input has: all of them must be stoppable.
	out.setCancel(func() bool { p, n := cancelAll(fs); return n == p })
	errs := make([]error, len(fs))
	var left atomic.Int64
	left.Store(int64(len(fs)))
	for i, f := range fs {
		f.onComplete(func(v T, err error) {
			if err == nil {
				if out.Complete(v, nil) {
					cancelAll(fs)
				}
				return
			}
			errs[i] = err
			if left.Add(-1) == 0 {
				var zero T
				out.Complete(zero, errors.Join(errs...))
			}
		})
	}
	return out
}

// cancelAll cancels every input. It returns how many were still pending and how many
// of those will now complete (their work could be stopped).
func cancelAll[T any](fs []*Future[T]) (pending, settling int) {
	for _, f := range fs {
		if f.IsDone() {
			continue
		}
		pending++
		if f.tryCancel() {
			settling++
		}
	}
	return pending, settling
}

// ErrNoFutures is what Race and Any of no futures complete with at once: there is no
// first one.
var ErrNoFutures = errors.New("zokio/runtime: Race or Any of no futures")

// onComplete calls fn synchronously, on whichever goroutine completes f (or now, if f is
// done). Combinators use it; fn must be short and must not block.
func (f *Future[T]) onComplete(fn func(T, error)) {
	f.mu.Lock()
	if !f.done.Load() {
		f.thens = append(f.thens, then[T]{nil, fn})
		f.mu.Unlock()
		return
	}
	f.mu.Unlock()
	fn(f.val, f.err)
}

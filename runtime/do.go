package runtime

import (
	"context"
	"errors"
	"sync"
	"syscall"
	"time"

	"github.com/zokio/zokio/poller"
)

// errCanceledOp is how a cancelled op's ECANCELED reads to isCancellation.
var errCanceledOp = syscall.ECANCELED

// Submit hands op to the loop's driver; op.Done runs on the loop for each completion.
// On the loop only. Op values can be embedded in longer-lived structs and reused after
// their final completion, so that steady state allocates nothing. A FlagLink chain
// must be submitted whole by the code that starts it, within one task or callback: a
// chain left open when that code returns takes in the next op any code on the loop
// submits.
func (l *Loop) Submit(op *poller.Op) error { return l.d.Submit(op) }

// Cancel asks the loop's driver to cancel op; op still completes exactly once. On the
// loop only.
func (l *Loop) Cancel(op *poller.Op) error { return l.d.Cancel(op) }

// Do runs one single-shot op on l from any goroutine and parks the caller until the
// op's final completion; it returns the result (a count or a descriptor) or the op's
// error. Do sets op.Done. While Do runs, op and everything it points to belong to the
// loop.
//
// An op is given to one Do at a time: a second Do of the same op while the first runs
// (on this loop or another) returns poller.ErrInFlight at once and leaves the first
// call and the op untouched; so does a Do of an op the loop's own code has submitted
// and not yet seen complete.
//
// Do runs ops alone, so it refuses the flags that tie an op to other ops or to more
// completions than one, with an *poller.InvalidOpError (errors.Is syscall.EINVAL) on
// every driver: FlagLink (its chain would take in whatever op the loop submits next,
// another caller's) and FlagMultishot (Do returns at one completion). To run a linked
// chain, submit it from a task on the loop, as package zfile's Batch does. The other
// flags keep their meaning: FlagSubmitNow hands the op, and what the loop queued
// before it, to the kernel when the loop submits it rather than at the loop's next
// wait (Backends: uring; the others start every op at once anyway).
//
// If ctx has ended already, Do submits nothing and returns ctx's error. If ctx ends
// first, Do cancels the op and still waits for its completion, so that the
// caller's buffers are never touched after Do returns and no result is lost
// (docs/RELIABILITY.md C3): an op that completed anyway returns its result with a nil error;
// one that was cancelled returns ctx's error. A nil ctx is taken as
// context.Background(). Do must not be called on a loop.
func (l *Loop) Do(ctx context.Context, op *poller.Op) (int32, error) {
	ctx = orBackground(ctx)
	if op == nil {
		return 0, &poller.InvalidOpError{Reason: "Do takes one single-shot op, not nil"}
	}
	if !op.Claim() {
		return 0, poller.ErrInFlight
	}
	if err := checkDoFlags(op); err != nil {
		op.Unclaim()
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		op.Unclaim()
		return 0, err // ended already: nothing is submitted, so nothing can be lost
	}
	w := waiters.Get().(*opWaiter)
	w.l, w.op, w.err, w.ref = l, op, nil, 0
	if err := l.postTask(&w.task, w.submitFn); err != nil {
		w.release()
		return 0, err
	}
	if !spinRecv(w.ch, l.rt.opts.SpinBeforePark) {
		select {
		case <-w.ch:
		case <-ctx.Done():
			// The cancel task may run before or after the op's completion; each
			// signals w.ch, and Do returns after both, so that neither the waiter nor
			// the op is touched once Do has returned. A refused post means the loop
			// is closing, which completes the op by itself.
			if l.Post(w.cancelFn) == nil {
				<-w.ch
			}
			<-w.ch
			res, err := w.result(ctx.Err())
			w.release()
			return res, err
		}
	}
	res, err := w.result(nil)
	w.release()
	return res, err
}

// checkDoFlags refuses the flags Do cannot honour for one op on its own.
func checkDoFlags(op *poller.Op) error {
	switch {
	case op.Flags&poller.FlagMultishot != 0:
		return &poller.InvalidOpError{Code: op.Code, Reason: "Do takes one single-shot op, not FlagMultishot"}
	case op.Flags&poller.FlagLink != 0:
		return &poller.InvalidOpError{Code: op.Code, Reason: "Do runs one op alone: FlagLink would chain it to another caller's op"}
	}
	return nil
}

// orBackground is how the runtime's waits take a nil context: as the standard
// library's would be if it accepted one, never as a crash.
func orBackground(ctx context.Context) context.Context {
	if ctx == nil {
		return context.Background()
	}
	return ctx
}

// spinRecv receives from ch if a value arrives within d, checking without blocking.
// It is the awaiting side of Options.SpinBeforePark.
func spinRecv(ch chan struct{}, d time.Duration) bool {
	if d <= 0 {
		return false
	}
	end := nanotime() + int64(d)
	for i := 0; ; i++ {
		select {
		case <-ch:
			return true
		default:
		}
		if i&63 == 63 && nanotime() >= end {
			return false
		}
	}
}

// opWaiter carries one Do call. Its functions are method values made once, and its task
// is embedded, so a pooled waiter makes Do allocation-free in steady state.
type opWaiter struct {
	l        *Loop
	op       *poller.Op
	ref      uint64 // op.Ref of the submission, for cancel: 0 until submitted
	err      error
	ch       chan struct{}
	task     task
	submitFn func()
	cancelFn func()
	doneFn   func(*poller.Op)
}

var waiters = sync.Pool{New: func() any {
	w := &opWaiter{ch: make(chan struct{}, 2)} // the completion and, after ctx ended, the cancel task
	w.task.external = true
	w.submitFn, w.cancelFn, w.doneFn = w.submit, w.cancel, w.done
	return w
}}

// submit runs on the loop. Done is set here, after the in-flight check, so that an op
// the loop's own code has in flight keeps its callback.
func (w *opWaiter) submit() {
	op := w.op
	err := error(poller.ErrInFlight)
	if !op.InFlight() {
		op.Done = w.doneFn
		if err = w.l.d.Submit(op); err == nil {
			w.ref = op.Ref
			return
		}
	}
	w.err = err
	w.l.readied = true
	w.ch <- struct{}{}
}

// cancel runs on the loop, after the caller's context ended, and then signals the
// caller. It cancels the submission it was posted for only (w.ref): the op may have
// completed already, or never have been submitted by Do (the loop's own code had it
// in flight).
func (w *opWaiter) cancel() {
	if w.ref != 0 && w.op.Ref == w.ref {
		_ = w.l.d.Cancel(w.op)
	}
	w.ch <- struct{}{}
}

// done runs on the loop for each completion.
func (w *opWaiter) done(op *poller.Op) {
	if !op.More() {
		w.l.readied = true
		w.ch <- struct{}{}
	}
}

func (w *opWaiter) result(ctxErr error) (int32, error) {
	if w.err != nil {
		return 0, w.err
	}
	res := w.op.Res
	if res >= 0 {
		return res, nil
	}
	err := w.op.Err()
	if errors.Is(err, syscall.ECANCELED) {
		switch {
		case ctxErr != nil:
			return res, ctxErr
		case w.l.rt.closing.Load():
			return res, ErrClosed // the runtime cancelled it at Close (C4)
		}
	}
	return res, err
}

// release ends the caller's claim on the op and pools the waiter.
func (w *opWaiter) release() {
	w.op.Unclaim()
	w.l, w.op = nil, nil
	waiters.Put(w)
}

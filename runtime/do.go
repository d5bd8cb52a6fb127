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
// their final completion, so that steady state allocates nothing.
func (l *Loop) Submit(op *poller.Op) error { return l.d.Submit(op) }

// Cancel asks the loop's driver to cancel op; op still completes exactly once. On the
// loop only.
func (l *Loop) Cancel(op *poller.Op) error { return l.d.Cancel(op) }

// Do runs one single-shot op on l from any goroutine and parks the caller until the
// op's final completion; it returns the result (a count or a descriptor) or the op's
// error. Do sets op.Done. While Do runs, op and everything it points to belong to the
// loop.
//
// If ctx ends first, Do cancels the op and still waits for its completion, so that the
// caller's buffers are never touched after Do returns and no result is lost
// (RELIABILITY.md C3): an op that completed anyway returns its result with a nil error;
// one that was cancelled returns ctx's error. Do must not be called on a loop.
func (l *Loop) Do(ctx context.Context, op *poller.Op) (int32, error) {
	if op == nil || op.Flags&poller.FlagMultishot != 0 {
		return 0, &poller.InvalidOpError{Reason: "Do takes one single-shot op"}
	}
	w := waiters.Get().(*opWaiter)
	w.l, w.op, w.err = l, op, nil
	op.Done = w.doneFn
	if err := l.postTask(&w.task, w.submitFn); err != nil {
		w.release()
		return 0, err
	}
	if !spinRecv(w.ch, l.rt.opts.SpinBeforePark) {
		select {
		case <-w.ch:
		case <-ctx.Done():
			// The cancel task may run after the op completed; the waiter is then not
			// reused (it is left to the collector), so the late task cannot touch
			// another caller's op.
			if err := l.Post(w.cancelFn); err == nil {
				<-w.ch
				return w.result(ctx.Err())
			}
			<-w.ch
			return w.result(ctx.Err())
		}
	}
	res, err := w.result(nil)
	w.release()
	return res, err
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
	err      error
	ch       chan struct{}
	task     task
	submitFn func()
	cancelFn func()
	doneFn   func(*poller.Op)
}

var waiters = sync.Pool{New: func() any {
	w := &opWaiter{ch: make(chan struct{}, 1)}
	w.task.external = true
	w.submitFn, w.cancelFn, w.doneFn = w.submit, w.cancel, w.done
	return w
}}

// submit runs on the loop.
func (w *opWaiter) submit() {
	if err := w.l.d.Submit(w.op); err != nil {
		w.err = err
		w.l.readied = true
		w.ch <- struct{}{}
	}
}

// cancel runs on the loop, after the caller's context ended.
func (w *opWaiter) cancel() {
	if w.op.InFlight() {
		_ = w.l.d.Cancel(w.op)
	}
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

func (w *opWaiter) release() {
	w.l, w.op = nil, nil
	waiters.Put(w)
}

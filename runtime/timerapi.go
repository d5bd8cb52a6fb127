package runtime

import (
	"context"
	"time"
)

// Timer calls a function on its loop at a deadline. Arming, stopping and re-arming a
// Timer allocate nothing, so a connection can keep one for its idle timeout.
//
// A Timer is used only on its loop: Reset and Stop must be called from code the loop
// runs. Other goroutines use Loop.Sleep or post a task that arms the timer.
type Timer struct {
	t  timer
	l  *Loop
	fn func()
	// drop settles the timer when its loop stops before it fired (Sleep completes
	// its future with ErrClosed); nil for plain timers, which are simply dropped.
	drop func()
}

// NewTimer returns an idle timer that will call fn on l when armed with Reset and due.
// It may be called from any goroutine.
func (l *Loop) NewTimer(fn func()) *Timer {
	tm := &Timer{l: l, fn: fn}
	tm.t = timer{fn: fireTimer, arg: tm}
	return tm
}

func fireTimer(arg any, _ int64) { arg.(*Timer).fn() }

// dropTimer settles a timer its stopping loop will never fire.
func dropTimer(t *timer) {
	if tm, ok := t.arg.(*Timer); ok && tm.drop != nil {
		tm.drop()
	}
}

// AfterFunc calls fn on l after d. On the loop only.
func (l *Loop) AfterFunc(d time.Duration, fn func()) *Timer {
	tm := l.NewTimer(fn)
	tm.Reset(d)
	return tm
}

// Reset arms the timer to fire after d, replacing any earlier deadline, and reports
// whether it was armed before. On the loop only.
func (tm *Timer) Reset(d time.Duration) bool {
	when := deadlineAfter(d)
	if tm.t.armed() {
		return tm.l.timers.reset(&tm.t, when)
	}
	tm.l.timers.arm(&tm.t, when)
	return false
}

// Stop disarms the timer and reports whether it was armed. On the loop only.
func (tm *Timer) Stop() bool { return tm.l.timers.stop(&tm.t) }

// Sleep returns a future that completes on l after d. Cancelling the future (or the
// context of an Await on it) stops the timer; the future then completes with
// context.Canceled. Safe for concurrent use.
func (l *Loop) Sleep(d time.Duration) *Future[struct{}] {
	f := NewFuture[struct{}]()
	var tm *Timer
	arm := func() {
		if f.IsDone() {
			return // cancelled before the loop got to it
		}
		tm = l.NewTimer(func() { f.Complete(struct{}{}, nil) })
		tm.drop = func() { f.Complete(struct{}{}, ErrClosed) }
		tm.Reset(d)
	}
	f.OnCancel(func() {
		_ = l.Post(func() {
			if tm == nil || tm.Stop() {
				f.Complete(struct{}{}, context.Canceled)
			}
		})
	})
	if err := l.Post(arm); err != nil {
		f.Complete(struct{}{}, err)
	}
	return f
}

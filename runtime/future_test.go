package runtime

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestFutureCompletesOnce(t *testing.T) {
	f := NewFuture[int]()
	if !f.Complete(1, nil) || f.Complete(2, errors.New("late")) {
		t.Fatal("Complete did not report first/second correctly")
	}
	if v, err, ok := f.Result(); !ok || v != 1 || err != nil {
		t.Fatalf("Result: %v %v %v", v, err, ok)
	}
	select {
	case <-f.Done():
	default:
		t.Fatal("Done channel of a completed future is open")
	}
}

func TestThenRunsOnItsLoop(t *testing.T) {
	forEachDriver(t, 2, func(t *testing.T, rt *Runtime) {
		f := NewFuture[string]()
		l := rt.Loops()[1]
		got := NewFuture[int]()
		if err := f.Then(l, func(v string, err error) {
			if v != "x" || err != nil {
				t.Errorf("Then got %q %v", v, err)
			}
			got.Complete(threadID(), nil)
		}); err != nil {
			t.Fatal(err)
		}
		go f.Complete("x", nil)
		tid, _ := await(t, got)
		if tid != loopThread(t, l) {
			t.Fatalf("Then callback ran on thread %d, loop 1 is %d", tid, loopThread(t, l))
		}
		// Then on a completed future runs too.
		again := NewFuture[bool]()
		_ = f.Then(l, func(string, error) { again.Complete(true, nil) })
		if v, _ := await(t, again); !v {
			t.Fatal("Then after completion did not run")
		}
	})
}

// TestBlockOnNested runs an asynchronous chain on a loop: a task spawns another, which
// arms a timer; each completes its future from a callback, and BlockOn gets the end.
func TestBlockOnNested(t *testing.T) {
	forEachDriver(t, 2, func(t *testing.T, rt *Runtime) {
		ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
		defer cancel()
		v, err := BlockOn(ctx, rt, func(l *Loop) *Future[int] {
			outer := NewFuture[int]()
			inner := NewFuture[int]()
			// Post, not Spawn: the task arms a timer on l, which only l's thread may
			// touch, and a spawned task may be stolen by the other loop.
			_ = l.Post(func() {
				l.AfterFunc(time.Millisecond, func() { inner.Complete(20, nil) })
			})
			_ = inner.Then(l, func(v int, err error) { outer.Complete(v+22, err) })
			return outer
		})
		if err != nil || v != 42 {
			t.Fatalf("BlockOn = %d, %v; want 42", v, err)
		}
	})
}

func TestSleepAndCancel(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *Runtime) {
		l := rt.Loops()[0]
		begin := time.Now()
		if _, err := await(t, l.Sleep(20*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		if el := time.Since(begin); el < 19*time.Millisecond {
			t.Fatalf("Sleep(20ms) returned after %v", el)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
		defer cancel()
		f := l.Sleep(time.Hour)
		if _, err := f.Await(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Await of a cancelled Sleep: %v", err)
		}
		if _, err, ok := f.Result(); !ok || !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled Sleep settled as %v (done %v)", err, ok)
		}
	})
}

func TestAllRaceAny(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *Runtime) {
		l := rt.Loops()[0]
		slow := l.Sleep(time.Hour)
		fast := l.Sleep(time.Millisecond)
		if _, err := await(t, Race(slow, fast)); err != nil {
			t.Fatalf("Race: %v", err)
		}
		if _, err := await(t, slow); !errors.Is(err, context.Canceled) {
			t.Fatalf("Race loser: %v, want cancelled", err)
		}
		vals, err := await(t, All(Ready(1), Ready(2), Ready(3)))
		if err != nil || len(vals) != 3 || vals[0]+vals[1]+vals[2] != 6 {
			t.Fatalf("All: %v %v", vals, err)
		}
		boom := errors.New("boom")
		pending := l.Sleep(time.Hour)
		if _, err := await(t, All(pending, Failed[struct{}](boom))); !errors.Is(err, boom) {
			t.Fatalf("All with a failure: %v", err)
		}
		if _, err := await(t, pending); !errors.Is(err, context.Canceled) {
			t.Fatalf("All's remaining input: %v, want cancelled", err)
		}
		v, err := await(t, Any(Failed[int](boom), Ready(7)))
		if err != nil || v != 7 {
			t.Fatalf("Any: %v %v", v, err)
		}
		if _, err := await(t, Any(Failed[int](boom), Failed[int](boom))); !errors.Is(err, boom) {
			t.Fatalf("Any of failures: %v", err)
		}
	})
}

// TestLoopTimersMillion arms and fires 1,000,000 timers on a loop (fewer under the race
// detector, which slows each one tenfold), checking deadline order.
func TestLoopTimersMillion(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *Runtime) {
		n := stressTimers
		l := rt.Loops()[0]
		done := NewFuture[bool]()
		var fired int
		var last int64
		ordered := true
		fire := func(arg any, _ int64) {
			tm := arg.(*timer)
			if tm.when < last {
				ordered = false
			}
			last = tm.when
			if fired++; fired == n {
				done.Complete(true, nil)
			}
		}
		slab := make([]timer, n)
		err := l.Post(func() {
			for i := range slab {
				slab[i] = timer{fn: fire, arg: &slab[i]}
				l.timers.arm(&slab[i], deadlineAfter(time.Duration(i%1000)*time.Microsecond))
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*testDeadline)
		defer cancel()
		if _, err := done.Await(ctx); err != nil {
			t.Fatalf("%d timers: %v", n, err)
		}
		if !ordered {
			t.Fatal("timers fired out of deadline order")
		}
	})
}

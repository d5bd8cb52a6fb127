package runtime

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zokio/zokio/poller"
)

// TestNilWorkRefused: a nil op or function is refused with an error by Do, Post,
// Spawn and SpawnOn, and a BlockOn function that returns a nil future fails the call
// with an error instead of leaving it waiting; the loop keeps working.
func TestNilWorkRefused(t *testing.T) {
	forEachDriver(t, 2, func(t *testing.T, rt *Runtime) {
		l := rt.Loops()[1]
		ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
		defer cancel()
		var inv *poller.InvalidOpError
		if _, err := l.Do(ctx, nil); !errors.As(err, &inv) {
			t.Errorf("Do(nil op) = %v, want an InvalidOpError", err)
		}
		if err := l.Post(nil); !errors.Is(err, errNilFunc) {
			t.Errorf("Post(nil) = %v", err)
		}
		if err := rt.Spawn(nil); !errors.Is(err, errNilFunc) {
			t.Errorf("Spawn(nil) = %v", err)
		}
		if err := rt.SpawnOn(l, nil); !errors.Is(err, errNilFunc) {
			t.Errorf("SpawnOn(l, nil) = %v", err)
		}
		if _, err := BlockOn(ctx, rt, func(*Loop) *Future[int] { return nil }); !errors.Is(err, errNilFuture) {
			t.Errorf("BlockOn of a nil future = %v, want errNilFuture", err)
		}
		ran := make(chan int, 1)
		if err := rt.SpawnOn(l, func() { ran <- l.ID() }); err != nil {
			t.Fatal(err)
		}
		select {
		case id := <-ran:
			if id != 1 {
				t.Fatalf("SpawnOn(loop 1) ran with ID %d", id)
			}
		case <-ctx.Done():
			t.Fatalf("SpawnOn's function never ran\n%s", hung())
		}
	})
}

// TestFutureEdges: Result of a pending future says so; All of nothing completes at
// once with no values; an Await whose context ends returns the work's own outcome when
// cancelling it did not stop it: its value, or its error when that is not a
// cancellation.
func TestFutureEdges(t *testing.T) {
	if v, err, ok := NewFuture[int]().Result(); ok || v != 0 || err != nil {
		t.Errorf("Result of a pending future = %d, %v, %v", v, err, ok)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
	defer cancel()
	if vs, err := All[int]().Await(ctx); err != nil || vs == nil || len(vs) != 0 {
		t.Errorf("All() = %v, %v; want an empty slice", vs, err)
	}
	gone, stop := context.WithCancel(context.Background())
	stop()
	done := NewFuture[int]()
	done.OnCancel(func() { done.Complete(42, nil) }) // the work finished as it was stopped
	if v, err := done.Await(gone); v != 42 || err != nil {
		t.Errorf("Await of work that completed when cancelled = %d, %v; want 42, nil", v, err)
	}
	boom := errors.New("boom")
	failed := NewFuture[int]()
	failed.OnCancel(func() { failed.Complete(0, boom) })
	if _, err := failed.Await(gone); !errors.Is(err, boom) {
		t.Errorf("Await of work that failed when cancelled = %v; want its error", err)
	}
	stopped := NewFuture[int]()
	stopped.OnCancel(func() { stopped.Complete(0, context.Canceled) })
	if _, err := stopped.Await(gone); !errors.Is(err, context.Canceled) || err != gone.Err() {
		t.Errorf("Await of cancelled work = %v; want the context's error", err)
	}
}

// TestBlockOnSpins: with SpinBeforePark, BlockOn and Do wait for a quick result by
// spinning, and for a slow one (past the spin) by parking; all return the result.
func TestBlockOnSpins(t *testing.T) {
	rt := newRuntime(t, Options{Loops: 1, SpinBeforePark: 200 * time.Microsecond})
	ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
	defer cancel()
	if v, err := BlockOn(ctx, rt, func(*Loop) *Future[int] { return Ready(5) }); v != 5 || err != nil {
		t.Fatalf("BlockOn(ready) = %d, %v", v, err)
	}
	v, err := BlockOn(ctx, rt, func(l *Loop) *Future[int] {
		f := NewFuture[int]()
		l.AfterFunc(20*time.Millisecond, func() { f.Complete(6, nil) })
		return f
	})
	if v != 6 || err != nil {
		t.Fatalf("BlockOn(after 20ms) = %d, %v", v, err)
	}
	l := rt.Loops()[0]
	if res, err := l.Do(ctx, &poller.Op{Code: poller.OpNop}); res != 0 || err != nil {
		t.Fatalf("Do(nop) = %d, %v", res, err)
	}
	begin := time.Now()
	res, err := l.Do(ctx, &poller.Op{Code: poller.OpTimeout, Timeout: 20 * time.Millisecond})
	if !errors.Is(err, poller.ETIME) || res != -int32(poller.ETIME) {
		t.Fatalf("Do(20ms timeout) = %d, %v; want ETIME", res, err)
	}
	if el := time.Since(begin); el < 19*time.Millisecond {
		t.Fatalf("Do(20ms timeout) returned after %v", el)
	}
}

// TestSleepAcrossClose: a Sleep pending when the runtime closes completes with
// ErrClosed (its loop drops the timer), and a Sleep asked for afterwards fails with
// ErrClosed at once.
func TestSleepAcrossClose(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *Runtime) {
		l := rt.Loops()[0]
		f := l.Sleep(time.Hour)
		// Let the loop arm it: a task posted after the Sleep runs after its arming.
		ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
		defer cancel()
		if err := l.Call(ctx, func() {}); err != nil {
			t.Fatal(err)
		}
		if err := rt.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := f.Await(ctx); !errors.Is(err, ErrClosed) {
			t.Errorf("Sleep pending at Close = %v, want ErrClosed", err)
		}
		if _, err := l.Sleep(time.Millisecond).Await(ctx); !errors.Is(err, ErrClosed) {
			t.Errorf("Sleep after Close = %v, want ErrClosed", err)
		}
	})
}

// TestCloseContextEnds: Close returns the context's error when a loop is still busy
// at its end, the loops still stop in the background, and a later Close waits for
// them and succeeds.
func TestCloseContextEnds(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *Runtime) {
		l := rt.Loops()[0]
		release := make(chan struct{})
		started := make(chan struct{})
		if err := l.Post(func() { close(started); <-release }); err != nil {
			t.Fatal(err)
		}
		<-started
		short, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		if err := rt.Close(short); !errors.Is(err, context.DeadlineExceeded) {
			close(release)
			t.Fatalf("Close while a loop is busy = %v, want DeadlineExceeded", err)
		}
		if !rt.Closed() {
			t.Error("the runtime does not report Closed after Close began")
		}
		close(release)
		ctx, cancel2 := context.WithTimeout(context.Background(), testDeadline)
		defer cancel2()
		if err := rt.Close(ctx); err != nil {
			t.Fatalf("second Close = %v", err)
		}
	})
}

// TestInjectOverflowRuns: a task that spawns far more tasks than its loop's ring holds
// spills the rest into the runtime's injection queue; the loop takes them back from
// there when its ring runs dry (counted as stolen), and every task runs exactly once.
func TestInjectOverflowRuns(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *Runtime) {
		l := rt.Loops()[0]
		const n = 4 * runqSize
		var ran [n]atomic.Int32
		var total atomic.Int32
		all := make(chan struct{})
		if err := l.Post(func() {
			for i := range n {
				l.Spawn(func() {
					ran[i].Add(1)
					if total.Add(1) == n {
						close(all)
					}
				})
			}
		}); err != nil {
			t.Fatal(err)
		}
		select {
		case <-all:
		case <-time.After(testDeadline):
			t.Fatalf("%d of %d tasks ran\n%s", total.Load(), n, hung())
		}
		for i := range ran {
			if c := ran[i].Load(); c != 1 {
				t.Fatalf("task %d ran %d times", i, c)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
		defer cancel()
		if err := l.Call(ctx, func() {}); err != nil { // the loop published its counters
			t.Fatal(err)
		}
		if st := l.Stats(); st.Stolen == 0 {
			t.Fatalf("no task came back from the injection queue: %+v", st)
		}
	})
}

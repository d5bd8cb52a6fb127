package runtime

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestFutureCancelSemantics: Await's context ends the wait when nothing can stop the
// work behind a combinator; Race and Any of nothing fail at once; BlockOn's
// cancellation before fn runs reaches the inner future; Then after Close says so.
func TestFutureCancelSemantics(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *Runtime) {
		short := func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 20*time.Millisecond)
		}
		in := NewFuture[int]() // nobody can cancel it
		defer in.Complete(1, nil)
		for name, f := range map[string]*Future[int]{"Race(uncancellable)": Race(in), "Any(uncancellable)": Any(in)} {
			ctx, cancel := short()
			done := make(chan error, 1)
			go func() { _, err := f.Await(ctx); done <- err }()
			select {
			case err := <-done:
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("%s: Await: %v", name, err)
				}
			case <-time.After(testDeadline):
				t.Fatalf("%s: Await ignored its context\n%s", name, hung())
			}
			cancel()
		}
		ctx, cancel := short()
		if _, err := All(Ready(2), in).Await(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("All(done, uncancellable): %v", err)
		}
		cancel()
		if _, err := Race[int]().Await(context.Background()); !errors.Is(err, ErrNoFutures) {
			t.Errorf("Race(): %v", err)
		}
		if _, err := Any[int]().Await(context.Background()); !errors.Is(err, ErrNoFutures) {
			t.Errorf("Any(): %v", err)
		}

		// BlockOn: the loop is busy, so ctx ends before fn runs; the inner future (a
		// long Sleep) must still be cancelled.
		l := rt.Loops()[0]
		release := make(chan struct{})
		if err := l.Post(func() { <-release }); err != nil {
			t.Fatal(err)
		}
		ctx, cancel = short()
		defer cancel()
		go func() { <-ctx.Done(); close(release) }()
		start := time.Now()
		_, err := BlockOn(ctx, rt, func(l *Loop) *Future[struct{}] { return l.Sleep(time.Hour) })
		if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > testDeadline/2 {
			t.Errorf("BlockOn cancelled before fn ran: %v after %v", err, time.Since(start))
		}
	})
	rt, err := New(Options{Loops: 1})
	if err != nil {
		t.Fatal(err)
	}
	l := rt.Loops()[0]
	rt.Close(context.Background())
	if err := NewFuture[int]().Then(l, func(int, error) {}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Then on a closed runtime's loop: %v, want ErrClosed", err)
	}
}

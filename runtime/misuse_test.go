package runtime

import (
	"context"
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/zokio/zokio/poller"
)

// TestNilArgumentsRefused: nil contexts are taken as context.Background(), and nil
// functions, loops, runtimes and futures are refused with errors, never a crash of
// the caller or of a loop (each of these used to panic, the BlockOn and Then ones on
// the loop, killing the process).
func TestNilArgumentsRefused(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *Runtime) {
		l := rt.Loops()[0]
		var nilCtx context.Context
		if n, err := l.Do(nilCtx, &poller.Op{Code: poller.OpNop}); n != 0 || err != nil {
			t.Errorf("Do(nil ctx, nop): %d %v", n, err)
		}
		ran := false
		if err := l.Call(nilCtx, func() { ran = true }); err != nil || !ran {
			t.Errorf("Call(nil ctx): %v, ran %v", err, ran)
		}
		if _, err := l.Sleep(time.Millisecond).Await(nilCtx); err != nil {
			t.Errorf("Await(nil ctx) of a pending future: %v", err)
		}
		if v, err := BlockOn(nilCtx, rt, func(l *Loop) *Future[int] { return Ready(7) }); v != 7 || err != nil {
			t.Errorf("BlockOn(nil ctx): %d %v", v, err)
		}
		if _, err := BlockOn[int](context.Background(), rt, nil); !errors.Is(err, errNilFunc) {
			t.Errorf("BlockOn(nil fn): %v", err)
		}
		if _, err := BlockOn(context.Background(), nil, func(l *Loop) *Future[int] { return Ready(1) }); !errors.Is(err, errNilRuntime) {
			t.Errorf("BlockOn(nil runtime): %v", err)
		}
		if err := Ready(1).Then(l, nil); !errors.Is(err, errNilFunc) {
			t.Errorf("Then(nil fn): %v", err)
		}
		if err := NewFuture[int]().Then(nil, func(int, error) {}); !errors.Is(err, errNilLoop) {
			t.Errorf("Then(nil loop): %v", err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
		defer cancel()
		if _, err := All(Ready(1), nil).Await(ctx); !errors.Is(err, errNilInput) {
			t.Errorf("All with a nil input: %v", err)
		}
		if _, err := Race[int](nil).Await(ctx); !errors.Is(err, errNilInput) {
			t.Errorf("Race of a nil input: %v", err)
		}
		if v, err := Any(nil, Ready(3)).Await(ctx); v != 3 || err != nil {
			t.Errorf("Any(nil, ready): %d %v", v, err)
		}
		f := NewFuture[int]()
		f.OnCancel(nil)
		f.Cancel() // no cancel function: nothing happens
		if f.IsDone() {
			t.Errorf("Cancel after OnCancel(nil) completed the future")
		}
		// The loop survived all of it.
		if n, err := l.Do(ctx, &poller.Op{Code: poller.OpNop}); n != 0 || err != nil {
			t.Fatalf("Do(nop) afterwards: %d %v", n, err)
		}
	})
}

// TestDoDescriptorRange: Do of an op on a descriptor outside the 32-bit range is
// refused with an InvalidOpError, on every driver (io_uring ran out of memory sizing
// a table by it).
func TestDoDescriptorRange(t *testing.T) {
	if ^uint(0)>>32 == 0 {
		t.Skip("32-bit int: every Fd is in range")
	}
	forEachDriver(t, 1, func(t *testing.T, rt *Runtime) {
		l := rt.Loops()[0]
		var inv *poller.InvalidOpError
		for _, v := range []int64{1 << 31, 1 << 40, -1 << 40} {
			fd := int(v)
			_, err := l.Do(context.Background(), &poller.Op{Code: poller.OpRead, Fd: fd, Buf: make([]byte, 1)})
			if !errors.As(err, &inv) || !errors.Is(err, syscall.EINVAL) {
				t.Errorf("Do(read) on descriptor %d: %v, want an InvalidOpError", fd, err)
			}
		}
	})
}

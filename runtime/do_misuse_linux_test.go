package runtime

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/zokio/zokio/poller"
)

// TestDoSameOpTwice gives one recv op to two Do calls at once, on one loop and on two:
// the second fails with ErrInFlight at once, and the first still receives the byte
// sent afterwards. Under -race this also checks that the refused call touches no field
// of the op (issue 15, item 1: it used to overwrite op.Done, and the first completion
// then ran the refused call's released waiter and crashed).
func TestDoSameOpTwice(t *testing.T) {
	forEachDriver(t, 2, func(t *testing.T, rt *Runtime) {
		a, b := socketpair(t)
		ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
		defer cancel()
		buf := make([]byte, 4)
		op := &poller.Op{Code: poller.OpRecv, Fd: b, Buf: buf}
		for i := range 50 {
			first, second := rt.Loops()[0], rt.Loops()[i%2]
			type ret struct {
				n   int32
				err error
			}
			rets := make(chan ret, 2)
			var start sync.WaitGroup
			start.Add(1)
			for _, l := range []*Loop{first, second} {
				go func() {
					start.Wait()
					n, err := l.Do(ctx, op)
					rets <- ret{n, err}
				}()
			}
			start.Done()
			var refused ret
			select {
			case refused = <-rets:
			case <-ctx.Done():
				t.Fatalf("round %d: neither Do returned before anything was sent\n%s", i, hung())
			}
			if !errors.Is(refused.err, poller.ErrInFlight) {
				t.Fatalf("round %d: a Do returned %d, %v before anything was sent; want ErrInFlight", i, refused.n, refused.err)
			}
			if _, err := unix.Write(a, []byte{byte(i)}); err != nil {
				t.Fatal(err)
			}
			select {
			case r := <-rets:
				if r.n != 1 || r.err != nil || buf[0] != byte(i) {
					t.Fatalf("round %d: the first Do got %d, %v, %v; want 1 byte %d", i, r.n, r.err, buf[:1], i)
				}
			case <-ctx.Done():
				t.Fatalf("round %d: the first Do never completed\n%s", i, hung())
			}
		}
	})
}

// TestDoSameOpRace has goroutines run Do on one nop op in a tight loop, across loops,
// so that claims and releases interleave every way they can: every call returns
// either the nop's result or ErrInFlight, and none is lost.
func TestDoSameOpRace(t *testing.T) {
	forEachDriver(t, 2, func(t *testing.T, rt *Runtime) {
		ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
		defer cancel()
		op := &poller.Op{Code: poller.OpNop}
		const workers, rounds = 4, 300
		var ok, refused atomic.Int64
		errs := make(chan error, workers)
		var wg sync.WaitGroup
		for g := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				l := rt.Loops()[g%2]
				for range rounds {
					n, err := l.Do(ctx, op)
					switch {
					case err == nil && n == 0:
						ok.Add(1)
					case errors.Is(err, poller.ErrInFlight):
						refused.Add(1)
					default:
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("Do(nop) shared by goroutines: %v", err)
		}
		if got := ok.Load() + refused.Load(); got != workers*rounds || ok.Load() == 0 {
			t.Fatalf("%d results and %d refusals of %d calls", ok.Load(), refused.Load(), workers*rounds)
		}
		t.Logf("%d completed, %d refused as in flight", ok.Load(), refused.Load())
	})
}

// TestDoOpInFlightOnLoop: a Do of an op that the loop's own code has submitted is
// refused with ErrInFlight, and the op keeps its own callback.
func TestDoOpInFlightOnLoop(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *Runtime) {
		a, b := socketpair(t)
		l := rt.Loops()[0]
		ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
		defer cancel()
		got := make(chan int32, 1)
		op := &poller.Op{Code: poller.OpRecv, Fd: b, Buf: make([]byte, 4), Done: func(op *poller.Op) { got <- op.Res }}
		if err := l.Call(ctx, func() {
			if err := l.Submit(op); err != nil {
				t.Errorf("Submit on the loop: %v", err)
			}
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := l.Do(ctx, op); !errors.Is(err, poller.ErrInFlight) {
			t.Fatalf("Do of an op in flight on the loop: %v, want ErrInFlight", err)
		}
		if _, err := unix.Write(a, []byte("x")); err != nil {
			t.Fatal(err)
		}
		select {
		case res := <-got:
			if res != 1 {
				t.Fatalf("the loop's recv completed with %d, want 1", res)
			}
		case <-ctx.Done():
			t.Fatalf("the loop's recv lost its callback\n%s", hung())
		}
	})
}

// TestDoRefusesChainingFlags: FlagLink and FlagMultishot are refused the same way on
// every driver, with nothing submitted, so a later Do is neither chained to the
// refused op nor cancelled with it (issue 15, item 2: on io_uring a linked Do waited
// for another caller's op and took it into its chain). FlagSubmitNow is honoured.
func TestDoRefusesChainingFlags(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *Runtime) {
		l := rt.Loops()[0]
		ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
		defer cancel()
		a, b := socketpair(t)
		for _, op := range []*poller.Op{
			{Code: poller.OpNop, Flags: poller.FlagLink},
			{Code: poller.OpRecv, Fd: b, Buf: make([]byte, 1), Flags: poller.FlagLink | poller.FlagSubmitNow},
			{Code: poller.OpPoll, Fd: b, Arg: unix.POLLIN, Flags: poller.FlagMultishot},
		} {
			start := time.Now()
			_, err := l.Do(ctx, op)
			var inv *poller.InvalidOpError
			if !errors.As(err, &inv) || !errors.Is(err, syscall.EINVAL) {
				t.Fatalf("Do(%v, flags %#x): %v, want an InvalidOpError", op.Code, op.Flags, err)
			}
			if d := time.Since(start); d > testDeadline/4 {
				t.Fatalf("Do(%v, flags %#x) took %v to refuse", op.Code, op.Flags, d)
			}
			if op.InFlight() || op.Done != nil {
				t.Fatalf("refused Do(%v) left the op in flight %v or its Done set", op.Code, op.InFlight())
			}
			// A refused op is still the caller's: Do takes it again once fixed.
			if op.Code == poller.OpNop {
				op.Flags = poller.FlagSubmitNow
				if n, err := l.Do(ctx, op); n != 0 || err != nil {
					t.Fatalf("Do(nop, FlagSubmitNow) after a refusal: %d %v", n, err)
				}
			}
		}
		if _, err := unix.Write(a, []byte("y")); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 1)
		if n, err := l.Do(ctx, &poller.Op{Code: poller.OpRecv, Fd: b, Buf: buf, Flags: poller.FlagSubmitNow}); n != 1 || err != nil || buf[0] != 'y' {
			t.Fatalf("recv after the refused linked ops: %d %v %q", n, err, buf)
		}
	})
}

// TestDoCancelReleasesOp: a Do whose context ends returns only once the loop is done
// with the op, so the op can be given to Do again at once, on another loop.
func TestDoCancelReleasesOp(t *testing.T) {
	forEachDriver(t, 2, func(t *testing.T, rt *Runtime) {
		a, b := socketpair(t)
		buf := make([]byte, 4)
		op := &poller.Op{Code: poller.OpRecv, Fd: b, Buf: buf}
		for i := range 20 {
			ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
			_, err := rt.Loops()[i%2].Do(ctx, op)
			cancel()
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("round %d: recv past its context: %v", i, err)
			}
			if op.InFlight() {
				t.Fatalf("round %d: op still in flight after Do returned", i)
			}
		}
		if _, err := unix.Write(a, []byte("z")); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
		defer cancel()
		if n, err := rt.Loops()[1].Do(ctx, op); n != 1 || err != nil || buf[0] != 'z' {
			t.Fatalf("recv after cancelled ones: %d %v %q", n, err, buf[:1])
		}
	})
}

// TestDoEndedContext: a Do whose context has already ended submits nothing: it returns
// the context's error, and the bytes waiting on the socket stay for the next recv.
func TestDoEndedContext(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *Runtime) {
		a, b := socketpair(t)
		l := rt.Loops()[0]
		if _, err := unix.Write(a, []byte("left")); err != nil {
			t.Fatal(err)
		}
		ended, cancel := context.WithCancel(context.Background())
		cancel()
		buf := make([]byte, 8)
		op := &poller.Op{Code: poller.OpRecv, Fd: b, Buf: buf}
		if n, err := l.Do(ended, op); n != 0 || !errors.Is(err, context.Canceled) {
			t.Fatalf("Do with an ended context: %d %v", n, err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
		defer cancel()
		if n, err := l.Do(ctx, op); err != nil || string(buf[:n]) != "left" {
			t.Fatalf("recv after a Do with an ended context: %q %v", buf[:n], err)
		}
	})
}

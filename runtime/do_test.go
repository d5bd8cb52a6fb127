package runtime

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/zokio/zokio/internal/testkit"

	"github.com/zokio/zokio/poller"
	"github.com/zokio/zokio/runtime/driver"
)

func TestDoFromGoroutines(t *testing.T) {
	forEachDriver(t, 2, func(t *testing.T, rt *Runtime) {
		ctx := context.Background()
		a, b := socketpair(t)
		l := rt.Loops()[1]
		// Short sends and receives are normal (a fault-injecting driver makes them
		// often): each side loops until the five bytes are through.
		msg := []byte("hello")
		for sent := 0; sent < len(msg); {
			n, err := l.Do(ctx, &poller.Op{Code: poller.OpSend, Fd: a, Buf: msg[sent:]})
			if n <= 0 || err != nil {
				t.Fatalf("send: %d %v", n, err)
			}
			sent += int(n)
		}
		buf := make([]byte, 16)
		got := 0
		for got < len(msg) {
			n, err := l.Do(ctx, &poller.Op{Code: poller.OpRecv, Fd: b, Buf: buf[got:]})
			if n <= 0 || err != nil {
				t.Fatalf("recv: %d %v %q", n, err, buf[:got])
			}
			got += int(n)
		}
		if got != len(msg) || string(buf[:got]) != "hello" {
			t.Fatalf("recv: %q, want %q", buf[:got], msg)
		}
		if _, err := l.Do(ctx, &poller.Op{Code: poller.OpRecv, Fd: b}); !errors.Is(err, syscall.EINVAL) {
			t.Fatalf("recv without a buffer: %v, want EINVAL", err)
		}
	})
}

// TestDoCancelLosesNothing cancels a waiting recv through its context, then sends: the
// bytes stay for the next recv (C3).
func TestDoCancelLosesNothing(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *Runtime) {
		a, b := socketpair(t)
		l := rt.Loops()[0]
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		buf := make([]byte, 16)
		if _, err := l.Do(ctx, &poller.Op{Code: poller.OpRecv, Fd: b, Buf: buf}); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("recv past its context: %v", err)
		}
		if _, err := writeFd(a, []byte("kept")); err != nil {
			t.Fatal(err)
		}
		n, err := l.Do(context.Background(), &poller.Op{Code: poller.OpRecv, Fd: b, Buf: buf})
		if err != nil || string(buf[:n]) != "kept" {
			t.Fatalf("after a cancelled recv: %q %v", buf[:n], err)
		}
	})
}

// TestCloseUnblocksDo closes the runtime while goroutines wait in Do: each returns
// ErrClosed (C4), and nothing leaks.
func TestCloseUnblocksDo(t *testing.T) {
	for _, k := range testkit.Drivers(t) {
		t.Run(string(k), func(t *testing.T) {
			// A socket per loop: on Windows a handle belongs to one completion port.
			_, b0 := socketpair(t)
			_, b1 := socketpair(t)
			fds := [2]int{b0, b1}
			before := snapshot(t)
			rt, err := New(Options{Loops: 2, Driver: k})
			if err != nil {
				t.Fatal(err)
			}
			before.watchThreads(t, rt)
			errs := make(chan error, 4)
			for i := 0; i < 4; i++ {
				l, fd := rt.Loops()[i%2], fds[i%2]
				go func() {
					_, err := l.Do(context.Background(), &poller.Op{Code: poller.OpRecv, Fd: fd, Buf: make([]byte, 8)})
					errs <- err
				}()
			}
			settle(t, rt)
			if err := rt.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 4; i++ {
				select {
				case err := <-errs:
					if !errors.Is(err, ErrClosed) || !errors.Is(err, net.ErrClosed) {
						t.Fatalf("Do at Close returned %v, want ErrClosed", err)
					}
				case <-time.After(testDeadline):
					t.Fatal("Do still blocked after Close")
				}
			}
			before.check(t, rt)
		})
	}
}

// TestDumpInFlight lists a recv waiting on its loop, nothing once it is cancelled, and
// reports a loop stuck in a task instead of waiting for it.
func TestDumpInFlight(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *Runtime) {
		_, b := socketpair(t)
		l := rt.Loops()[0]
		done := make(chan int32, 1)
		op := &poller.Op{Code: poller.OpRecv, Fd: b, Buf: make([]byte, 8), Done: func(op *poller.Op) { done <- op.Res }}
		ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
		defer cancel()
		if err := l.Call(ctx, func() {
			if err := l.Submit(op); err != nil {
				t.Errorf("Submit: %v", err)
			}
		}); err != nil {
			t.Fatal(err)
		}
		var out strings.Builder
		if n := rt.DumpInFlight(ctx, &out); n != 1 || !strings.Contains(out.String(), "recv fd") {
			t.Fatalf("DumpInFlight listed %d op(s):\n%s", n, out.String())
		}
		if err := l.Call(ctx, func() { _ = l.Driver().Cancel(op) }); err != nil {
			t.Fatal(err)
		}
		select {
		case res := <-done:
			if res != -int32(syscall.ECANCELED) {
				t.Fatalf("cancelled recv: res %d", res)
			}
		case <-ctx.Done():
			t.Fatalf("the cancelled recv never completed\n%s", hung())
		}
		out.Reset()
		if n := rt.DumpInFlight(ctx, &out); n != 0 {
			t.Fatalf("after its completion DumpInFlight listed %d op(s):\n%s", n, out.String())
		}

		release := make(chan struct{})
		if err := l.Post(func() { <-release }); err != nil {
			t.Fatal(err)
		}
		short, cancelShort := context.WithTimeout(ctx, 50*time.Millisecond)
		out.Reset()
		n := rt.DumpInFlight(short, &out)
		cancelShort()
		close(release)
		if n != 0 || !strings.Contains(out.String(), "no answer") {
			t.Fatalf("a loop stuck in a task: DumpInFlight listed %d:\n%s", n, out.String())
		}
	})
}

// TestBatchWait runs a loop that waits for batches of completions: posts, timers and
// I/O still complete (a lone completion ends the wait once the min-wait has passed),
// and every op and post is accounted for.
func TestBatchWait(t *testing.T) {
	for _, k := range testkit.Drivers(t) {
		t.Run(string(k), func(t *testing.T) {
			rt := newRuntime(t, Options{Loops: 1, Driver: k, BatchWait: 2 * time.Millisecond})
			l := rt.Loops()[0]
			ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
			defer cancel()
			ran := 0
			for range 100 {
				if err := l.Call(ctx, func() { ran++ }); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := await(t, l.Sleep(time.Millisecond)); err != nil {
				t.Fatal(err)
			}
			a, b := socketpair(t)
			buf := make([]byte, 8)
			for i := range 50 {
				if _, err := writeFd(a, []byte{byte(i)}); err != nil {
					t.Fatal(err)
				}
				if n, err := l.Do(ctx, &poller.Op{Code: poller.OpRecv, Fd: b, Buf: buf}); n != 1 || err != nil || buf[0] != byte(i) {
					t.Fatalf("recv %d: %d %v %v", i, n, err, buf[:1])
				}
			}
			var count int
			if err := l.Call(ctx, func() { count = ran }); err != nil || count != 100 {
				t.Fatalf("ran %d calls of 100, %v", count, err)
			}
		})
	}
}

// TestDumpInFlightStuckLoop: one stuck loop is reported as such, and does not keep the
// others from answering within the same context.
func TestDumpInFlightStuckLoop(t *testing.T) {
	forEachDriver(t, 2, func(t *testing.T, rt *Runtime) {
		release := make(chan struct{})
		if err := rt.Loops()[0].Post(func() { <-release }); err != nil {
			t.Fatal(err)
		}
		defer close(release)
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		var out strings.Builder
		rt.DumpInFlight(ctx, &out)
		if !strings.Contains(out.String(), "loop 0: no answer") || !strings.Contains(out.String(), "loop 1: in-flight table: 0 op(s)") {
			t.Fatalf("DumpInFlight with loop 0 stuck:\n%s", out.String())
		}
	})
}

// closeDuringCallback runs onClose on a one-loop runtime's loop while Close closes its
// driver (as the completion of an op Close cancels), waits for Close, and returns the
// loop, now stopped.
func closeDuringCallback(t *testing.T, k driver.Kind, onClose func(l *Loop)) *Loop {
	t.Helper()
	rt, err := New(Options{Loops: 1, Driver: k})
	if err != nil {
		t.Fatal(err)
	}
	l := rt.Loops()[0]
	a, _ := socketpair(t)
	ran := false
	op := &poller.Op{Code: poller.OpPoll, Fd: a, Arg: pollIn, Done: func(*poller.Op) { ran = true; onClose(l) }}
	ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
	defer cancel()
	if err := l.Call(ctx, func() {
		if err := l.Submit(op); err != nil {
			t.Error(err)
		}
	}); err != nil {
		t.Fatal(err)
	}
	if err := rt.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if !ran { // Close returned after the loop stopped: its writes are visible here
		t.Fatal("the cancelled op's callback did not run at Close")
	}
	return l
}

// TestShutdownRunsSpilledTasks: a callback that runs while the loop shuts down spawns
// more tasks than the loop's ring holds; the spill goes to the injection queue, and
// every task still runs before Close returns.
func TestShutdownRunsSpilledTasks(t *testing.T) {
	for _, k := range testkit.Drivers(t) {
		t.Run(string(k), func(t *testing.T) {
			var ran atomic.Int64
			closeDuringCallback(t, k, func(l *Loop) {
				for range 1000 {
					l.Spawn(func() { ran.Add(1) })
				}
			})
			if n := ran.Load(); n != 1000 {
				t.Fatalf("ran %d of the 1000 tasks spawned during shutdown", n)
			}
		})
	}
}

// TestShutdownDropsLateTimers: a callback that runs while the loop's driver closes
// arms a timer; no tick will fire it, so shutdown drops it, and nothing stays armed.
func TestShutdownDropsLateTimers(t *testing.T) {
	for _, k := range testkit.Drivers(t) {
		t.Run(string(k), func(t *testing.T) {
			l := closeDuringCallback(t, k, func(l *Loop) {
				l.AfterFunc(time.Hour, func() { t.Error("a dropped timer fired") })
			})
			if n := len(l.timers.items); n != 0 {
				t.Fatalf("%d timer(s) still armed on a stopped loop", n)
			}
		})
	}
}

// TestOnStop: a stop hook runs on its loop at Close, while the driver still takes ops;
// one removed before does not run.
func TestOnStop(t *testing.T) {
	for _, k := range testkit.Drivers(t) {
		t.Run(string(k), func(t *testing.T) {
			rt, err := New(Options{Loops: 1, Driver: k})
			if err != nil {
				t.Fatal(err)
			}
			l := rt.Loops()[0]
			ran, removedRan := false, false
			var submitErr error
			ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
			defer cancel()
			if err := l.Call(ctx, func() {
				l.OnStop(func() {
					ran = true
					submitErr = l.Submit(&poller.Op{Code: poller.OpNop, Done: func(*poller.Op) {}})
				})
				remove := l.OnStop(func() { removedRan = true })
				remove()
				remove() // again: nothing
			}); err != nil {
				t.Fatal(err)
			}
			if err := rt.Close(ctx); err != nil {
				t.Fatal(err)
			}
			// Close returned after the loop stopped: its writes are visible here.
			if !ran || removedRan || submitErr != nil {
				t.Fatalf("hook ran %v (submit in it: %v); removed hook ran %v", ran, submitErr, removedRan)
			}
		})
	}
}

// TestBeforeWait: a wait hook runs on its loop once per turn, after the turn's tasks,
// and an op it submits goes to the kernel in that turn's wait; a removed hook (also
// one removed by another hook during a pass) stops running.
func TestBeforeWait(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *Runtime) {
		l := rt.Loops()[0]
		ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
		defer cancel()
		var order []string
		armed := false
		done := make(chan struct{})
		nop := &poller.Op{Code: poller.OpNop, Done: func(*poller.Op) { close(done) }}
		var removeOther func()
		otherRuns := 0
		if err := l.Call(ctx, func() {
			l.BeforeWait(func() {
				if armed {
					order = append(order, "hook")
					armed = false
					if err := l.Submit(nop); err != nil {
						t.Error(err)
					}
					removeOther()
				}
			})
			removeOther = l.BeforeWait(func() { otherRuns++ })
		}); err != nil {
			t.Fatal(err)
		}
		if err := l.Post(func() { order = append(order, "task"); armed = true }); err != nil {
			t.Fatal(err)
		}
		select {
		case <-done:
		case <-ctx.Done():
			t.Fatal("the hook's op never completed")
		}
		var got []string
		var runsAfter, runsLater int
		l.Call(ctx, func() { got, runsAfter = order, otherRuns })
		l.Call(ctx, func() {})
		l.Call(ctx, func() { runsLater = otherRuns })
		if len(got) != 2 || got[0] != "task" || got[1] != "hook" {
			t.Errorf("order %v, want the task, then the hook in the same turn", got)
		}
		if runsAfter == 0 || runsLater != runsAfter {
			t.Errorf("removed hook ran %d times before and %d after its removal", runsAfter, runsLater-runsAfter)
		}
	})
}

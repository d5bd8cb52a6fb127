package runtime

import (
	"context"
	"testing"
	"time"

	"github.com/zokio/zokio/internal/testkit"
	"github.com/zokio/zokio/poller"
)

// TestSpinFindsWork: a loop with SpinBeforePark and a timer pending spins instead of
// sleeping (for no longer than until the timer), and what arrives meanwhile ends the
// spin: a posted task on every driver, and, on a driver that can tell without a
// system call that completions wait (io_uring), a completion of an op the kernel
// already has. Each is counted in SpinHits and handled.
func TestSpinFindsWork(t *testing.T) {
	testkit.SkipUnderFaults(t, "the fault driver hides the completion peek")
	for _, k := range testkit.Drivers(t) {
		t.Run(string(k), func(t *testing.T) {
			rt := newRuntime(t, Options{Loops: 1, Driver: k, SpinBeforePark: 2 * time.Second})
			l := rt.Loops()[0]
			ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
			defer cancel()
			var tm *Timer
			if err := l.Call(ctx, func() { tm = l.AfterFunc(time.Second, func() {}) }); err != nil {
				t.Fatal(err)
			}
			before := l.Stats().SpinHits
			// The loop now spins, the timer bounding the spin; a post ends it.
			if err := l.Call(ctx, func() {}); err != nil {
				t.Fatal(err)
			}
			if err := l.Call(ctx, func() {}); err != nil { // published after the tick
				t.Fatal(err)
			}
			if got := l.Stats().SpinHits; got <= before {
				t.Fatalf("SpinHits %d after a post to a spinning loop, was %d", got, before)
			}
			if _, ok := l.d.(completionPeeker); ok {
				a, b := socketpair(t)
				got := make(chan int32, 1)
				op := &poller.Op{Code: poller.OpRecv, Fd: b, Buf: make([]byte, 8), Flags: poller.FlagSubmitNow,
					Done: func(op *poller.Op) { got <- op.Res }}
				if err := l.Call(ctx, func() {
					if err := l.Submit(op); err != nil {
						t.Error(err)
					}
				}); err != nil {
					t.Fatal(err)
				}
				before = l.Stats().SpinHits
				if n, err := writeFd(a, []byte("spin")); n != 4 || err != nil {
					t.Fatalf("write: %d, %v", n, err)
				}
				select {
				case res := <-got:
					if res != 4 {
						t.Fatalf("recv: %d", res)
					}
				case <-ctx.Done():
					t.Fatalf("the recv never completed\n%s", hung())
				}
				if err := l.Call(ctx, func() {}); err != nil {
					t.Fatal(err)
				}
				if hits := l.Stats().SpinHits; hits <= before {
					t.Errorf("SpinHits %d after a completion reached a spinning loop, was %d", hits, before)
				}
			}
			if err := l.Call(ctx, func() { tm.Stop() }); err != nil {
				t.Fatal(err)
			}
		})
	}
}

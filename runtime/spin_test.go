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
// already has. Each is counted in SpinHits and handled. A post or a completion that
// reaches the loop before it starts spinning is no hit, so each kind gets a few tries
// (on a loaded host the test's goroutine may lag).
func TestSpinFindsWork(t *testing.T) {
	testkit.SkipUnderFaults(t, "the fault driver hides the completion peek")
	for _, k := range testkit.Drivers(t) {
		t.Run(string(k), func(t *testing.T) {
			rt := newRuntime(t, Options{Loops: 1, Driver: k, SpinBeforePark: 2 * time.Second})
			l := rt.Loops()[0]
			ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
			defer cancel()
			var tm *Timer
			arm := func() { // keeps a timer pending, so that every spin ends by it
				if tm == nil {
					tm = l.NewTimer(func() {})
				}
				tm.Reset(time.Second)
			}
			if err := l.Call(ctx, arm); err != nil {
				t.Fatal(err)
			}
			before := l.Stats().SpinHits
			for try := 0; l.Stats().SpinHits == before; try++ {
				if try == 20 {
					t.Fatalf("SpinHits still %d after %d posts to a spinning loop", before, try)
				}
				if err := l.Call(ctx, arm); err != nil {
					t.Fatal(err)
				}
			}
			if _, ok := l.d.(completionPeeker); ok {
				// The loop's own count, read on the loop when the recv is submitted
				// and when it completes: no post comes in between to count instead.
				a, b := socketpair(t)
				spunOn := func() bool { // one recv: did a spin find its completion?
					var atSubmit uint64
					got := make(chan uint64, 1)
					op := &poller.Op{Code: poller.OpRecv, Fd: b, Buf: make([]byte, 8), Flags: poller.FlagSubmitNow}
					op.Done = func(op *poller.Op) {
						if op.Res != 4 {
							t.Errorf("recv: %d", op.Res)
						}
						got <- l.count.spinHits
					}
					if err := l.Call(ctx, func() {
						arm()
						atSubmit = l.count.spinHits
						if err := l.Submit(op); err != nil {
							t.Error(err)
						}
					}); err != nil {
						t.Fatal(err)
					}
					if n, err := writeFd(a, []byte("spin")); n != 4 || err != nil {
						t.Fatalf("write: %d, %v", n, err)
					}
					select {
					case atDone := <-got:
						return atDone > atSubmit
					case <-ctx.Done():
						t.Fatalf("the recv never completed\n%s", hung())
					}
					return false
				}
				for try := 0; !spunOn(); try++ {
					if try == 5 {
						t.Fatalf("no spin found any of %d completions", try+1)
					}
				}
			}
			if err := l.Call(ctx, func() { tm.Stop() }); err != nil {
				t.Fatal(err)
			}
		})
	}
}

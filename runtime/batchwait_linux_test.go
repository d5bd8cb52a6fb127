package runtime

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/zokio/zokio/internal/testkit"
	"github.com/zokio/zokio/poller"
	"github.com/zokio/zokio/uring"
)

// TestBatchWaitBound runs Do(nop) on an idle loop under the largest BatchWait: the post
// cuts the loop's batch wait short, so a Do takes at most the nop's own batch wait
// (issue 15, item 3: 850 ms were seen for a 500 ms BatchWait, the wake and the nop
// each sleeping out a wait). Close then returns promptly. The bound allows a loaded
// machine a second on top; the median is logged.
func TestBatchWaitBound(t *testing.T) {
	for _, k := range testkit.Drivers(t) {
		t.Run(string(k), func(t *testing.T) {
			rt, err := New(Options{Loops: 1, Driver: k, BatchWait: MaxBatchWait})
			if err != nil {
				t.Fatal(err)
			}
			closed := false
			defer func() {
				if !closed {
					_ = rt.Close(context.Background())
				}
			}()
			l := rt.Loops()[0]
			if u, ok := l.Driver().(*uring.Driver); ok && u.Ring().Features()&uring.FeatMinTimeout == 0 {
				t.Skip("the kernel has no min-wait (IORING_FEAT_MIN_TIMEOUT, Linux 6.12): BatchWait does nothing")
			}
			ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
			defer cancel()
			const slack = time.Second
			var took []time.Duration
			for i := range 30 {
				start := time.Now()
				if n, err := l.Do(ctx, &poller.Op{Code: poller.OpNop}); n != 0 || err != nil {
					t.Fatalf("Do(nop) %d: %d %v", i, n, err)
				}
				d := time.Since(start)
				if d > MaxBatchWait+slack {
					t.Fatalf("Do(nop) %d took %v under a %v BatchWait", i, d, MaxBatchWait)
				}
				took = append(took, d)
			}
			slices.Sort(took)
			t.Logf("Do(nop) under a %v BatchWait: median %v, max %v", MaxBatchWait, took[len(took)/2], took[len(took)-1])
			start := time.Now()
			if err := rt.Close(ctx); err != nil {
				t.Fatal(err)
			}
			closed = true
			if d := time.Since(start); d > MaxBatchWait+slack {
				t.Fatalf("Close took %v under a %v BatchWait", d, MaxBatchWait)
			}
		})
	}
}

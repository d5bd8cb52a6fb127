package zfile

import (
	"fmt"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/zokio/zokio/internal/testkit"
	"github.com/zokio/zokio/poller"
)

// closeRefuser wraps a real driver and refuses the first `left` OpClose submissions
// with ENOMEM, as a live driver short of memory or ring space would.
type closeRefuser struct {
	poller.Driver
	left *atomic.Int32
}

func (d *closeRefuser) Submit(op *poller.Op) error {
	if op.Code == poller.OpClose && d.left.Add(-1) >= 0 {
		return fmt.Errorf("zfile test: close refused: %w", syscall.ENOMEM)
	}
	return d.Driver.Submit(op)
}

func (d *closeRefuser) Unwrap() poller.Driver { return d.Driver }

// TestCloseRefused: the close behind File.Close is refused by the live driver, once or
// several times. Close returns nil and the descriptor is released all the same, as
// os.File's Close never leaves one open (forEachDriverWrapped also counts the
// descriptors after the runtime closes), and it is released through the driver, which
// may keep state for the number, never behind its back: Close tries again after a
// backoff until the driver takes the close (internal/loopclose).
func TestCloseRefused(t *testing.T) {
	testkit.SkipUnderFaults(t, "the driver hook is the fault schedule's")
	for _, refusals := range []int32{1, 6} {
		t.Run(fmt.Sprintf("refused-%d", refusals), func(t *testing.T) {
			var left atomic.Int32
			wrap := func(d poller.Driver) poller.Driver { return &closeRefuser{Driver: d, left: &left} }
			forEachDriverWrapped(t, 1, wrap, func(t *testing.T, e *env) {
				left.Store(0)
				f, err := Create(ctxT(t), e.rt, e.path("f"))
				if err != nil {
					t.Fatal(err)
				}
				if _, err := f.WriteAt([]byte("data"), 0); err != nil {
					t.Fatal(err)
				}
				open := testkit.FDCount(t)
				left.Store(refusals)
				if err := f.Close(); err != nil {
					t.Fatalf("Close with its close refused: %v, want nil", err)
				}
				if now := testkit.FDCount(t); now >= open {
					t.Fatalf("descriptors: %d with the file open, %d after Close", open, now)
				}
				if n := left.Load(); n != -1 {
					t.Fatalf("%d closes left to refuse (want -1: %d refused, then one taken by the driver)", n, refusals)
				}
				left.Store(0)
			})
		})
	}
}

//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package poller

import (
	"errors"
	"math"
	"syscall"
	"testing"
)

// TestZeroCoreRefuses: a Core that was never set up, or whose Init refused its
// config, refuses everything the way a closed driver does, and leaves the op idle.
func TestZeroCoreRefuses(t *testing.T) {
	var c Core
	if err := c.Init(nil, "test", CoreConfig{Workers: -1}); !errors.Is(err, syscall.EINVAL) {
		t.Fatalf("Init(Workers: -1) = %v, want EINVAL", err)
	}
	if math.MaxInt > math.MaxInt32 { // a bound a 32-bit int cannot exceed
		if err := c.Init(nil, "test", CoreConfig{MaxQueuedFileOps: math.MaxInt}); !errors.Is(err, syscall.EINVAL) {
			t.Fatalf("Init(MaxQueuedFileOps: MaxInt) = %v, want EINVAL", err)
		}
	}
	if !c.Closed() {
		t.Fatal("a Core whose Init failed is not Closed")
	}
	done := 0
	op := &Op{Code: OpNop, Done: func(*Op) { done++ }}
	if err := c.Submit(op); !errors.Is(err, ErrClosed) {
		t.Errorf("Submit = %v, want ErrClosed", err)
	}
	if op.Ref != 0 {
		t.Errorf("refused op has Ref %#x", op.Ref)
	}
	if err := c.Cancel(op); !errors.Is(err, ErrNotInFlight) {
		t.Errorf("Cancel = %v, want ErrNotInFlight", err)
	}
	if n, err := c.Wait(0); n != 0 || !errors.Is(err, ErrClosed) {
		t.Errorf("Wait = %d, %v; want 0, ErrClosed", n, err)
	}
	if g, err := c.NewBufferGroup(1, 64); g != nil || !errors.Is(err, ErrClosed) {
		t.Errorf("NewBufferGroup = %v, %v; want nil, ErrClosed", g, err)
	}
	if got := c.InFlight(make([]InFlightOp, 0, 1)); len(got) != 0 {
		t.Errorf("InFlight listed %v", got)
	}
	c.Shutdown()
	c.Fail(3, syscall.EBADF) // no descriptor state: nothing to fail
	if done != 0 {
		t.Errorf("Done ran %d times for a refused op", done)
	}
}

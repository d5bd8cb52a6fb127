package runtime

import (
	"context"
	"os"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/zokio/zokio/poller"
	"github.com/zokio/zokio/runtime/driver"
	"github.com/zokio/zokio/sqpoll"
)

// TestNewFailsCleanlyUnderSharedSQPoll: when loop 0's ring cannot be set up (here: the
// process runs out of descriptors) under Shared SQPOLL, the other loops never start;
// New must return the error, not panic closing loops that never ran.
func TestNewFailsCleanlyUnderSharedSQPoll(t *testing.T) {
	o := Options{Loops: 2, Driver: driver.Uring, SQPoll: sqpoll.Config{Mode: sqpoll.Shared}}
	if _, err := driver.Choose(driver.Uring); err != nil {
		t.Skipf("io_uring unavailable: %v", err)
	}
	rt, err := New(o) // also warms the probes, so that they need no descriptor below
	if err != nil {
		t.Skipf("shared SQPOLL unavailable: %v", err)
	}
	if err := rt.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	var old unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &old); err != nil {
		t.Fatal(err)
	}
	defer unix.Setrlimit(unix.RLIMIT_NOFILE, &old)
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	failed := 0
	for k := -2; k < 6; k++ {
		lim := unix.Rlimit{Cur: uint64(len(ents) + k), Max: old.Max}
		if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
			t.Fatal(err)
		}
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("limit %d: New panicked: %v", lim.Cur, r)
				}
			}()
			rt, err := New(o)
			_ = unix.Setrlimit(unix.RLIMIT_NOFILE, &old)
			if err != nil {
				failed++
				return
			}
			if err := rt.Close(context.Background()); err != nil {
				t.Errorf("limit %d: Close: %v", lim.Cur, err)
			}
		}()
	}
	if failed == 0 {
		t.Fatal("no limit made New fail: the test did not reach the failure path")
	}
	if after, _ := os.ReadDir("/proc/self/fd"); len(after) > len(ents) {
		t.Errorf("descriptor leak: %d open after the failed New calls, %d before", len(after), len(ents))
	}
}

// TestSQPollModes runs the runtime with each SQPOLL mode on io_uring: tasks and ops
// complete, and the decision says which mode the rings got.
func TestSQPollModes(t *testing.T) {
	if _, err := driver.Choose(driver.Uring); err != nil {
		t.Skipf("io_uring unavailable: %v", err)
	}
	for _, m := range []sqpoll.Mode{sqpoll.Off, sqpoll.PerRing, sqpoll.Shared} {
		t.Run(m.String(), func(t *testing.T) {
			rt := newRuntime(t, Options{Loops: 2, Driver: driver.Uring, SQPoll: sqpoll.Config{Mode: m}})
			if got := rt.SQPoll().Mode; got != m {
				t.Fatalf("asked for %v, rings run %v: %s", m, got, rt.SQPoll().Reason)
			}
			for _, l := range rt.Loops() {
				if _, err := l.Do(context.Background(), &poller.Op{Code: poller.OpNop}); err != nil {
					t.Fatalf("nop on loop %d: %v", l.ID(), err)
				}
				feat := NewFuture[poller.Features]()
				_ = l.Post(func() { feat.Complete(l.Driver().Info().Features, nil) })
				f, _ := await(t, feat)
				if f.Has(poller.FeatSQPoll) != (m != sqpoll.Off) {
					t.Fatalf("loop %d: features %v under mode %v", l.ID(), f, m)
				}
			}
		})
	}
}

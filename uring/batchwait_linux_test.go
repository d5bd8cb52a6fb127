package uring

import (
	goruntime "runtime"
	"testing"
	"time"
)

// forBatchModes runs fn on drivers whose Waits hold out for a batch for up to minWait,
// plain and SINGLE_ISSUER|DEFER_TASKRUN (as the runtime's loops run them), on a locked
// thread; it skips where the kernel has no min-wait.
func forBatchModes(t *testing.T, minWait time.Duration, fn func(t *testing.T, d *Driver)) {
	for _, m := range []struct {
		name  string
		flags SetupFlags
	}{{"plain", 0}, {"defer-taskrun", SetupSingleIssuer | SetupDeferTaskrun}} {
		t.Run(m.name, func(t *testing.T) {
			goruntime.LockOSThread() // DEFER_TASKRUN: set-up, waits and Close on one thread
			defer goruntime.UnlockOSThread()
			checkLeaks(t)
			d, err := NewDriver(DriverConfig{BatchWait: minWait, Flags: m.flags})
			if err != nil {
				t.Fatalf("NewDriver: %v", err)
			}
			defer d.Close()
			if d.ring.Features()&FeatMinTimeout == 0 {
				t.Skip("the kernel has no min-wait (IORING_FEAT_MIN_TIMEOUT, Linux 6.12): BatchWait does nothing")
			}
			fn(t, d)
		})
	}
}

// TestBatchWaitWakeCutsShort: a Wake ends a Wait that holds out for a batch at once,
// not when the min-wait has passed (issue 15, item 3: with an hour's BatchWait a
// runtime's Close, which wakes its loops, hung). Each round's Wake comes from another
// goroutine while the Wait sleeps.
func TestBatchWaitWakeCutsShort(t *testing.T) {
	forBatchModes(t, time.Hour, func(t *testing.T, d *Driver) {
		for i := range 3 {
			tm := time.AfterFunc(20*time.Millisecond, func() { _ = d.Wake() })
			start := time.Now()
			if _, err := d.Wait(30 * time.Second); err != nil {
				t.Fatal(err)
			}
			tm.Stop()
			if took := time.Since(start); took > 10*time.Second {
				t.Fatalf("round %d: a Wake 20ms in ended the Wait after %v", i, took)
			}
			if st := d.Stats(); st.Wakeups != uint64(i+1) {
				t.Fatalf("round %d: %d wakeups counted", i, st.Wakeups)
			}
		}
	})
}

// TestBatchWaitKeepsDeadline: a Wait's timeout shorter than the min-wait still ends
// it (the kernel would otherwise sleep out the whole min-wait first), and a Wait with
// nothing to do returns no sooner than its timeout.
func TestBatchWaitKeepsDeadline(t *testing.T) {
	forBatchModes(t, time.Hour, func(t *testing.T, d *Driver) {
		const timeout = 30 * time.Millisecond
		start := time.Now()
		n, err := d.Wait(timeout)
		took := time.Since(start)
		if err != nil || n != 0 {
			t.Fatalf("idle Wait(%v): %d completions, %v", timeout, n, err)
		}
		if took < timeout || took > 10*time.Second {
			t.Fatalf("idle Wait(%v) under an hour's BatchWait took %v", timeout, took)
		}
	})
}

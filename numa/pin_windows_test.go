package numa

import (
	"runtime"
	"testing"
)

// TestPinThread pins a locked goroutine's thread to each of the first CPUs and reads
// the mask back (SetThreadAffinityMask returns the previous one), then lets the
// goroutine end locked, as the runtime's loops do.
func TestPinThread(t *testing.T) {
	n := min(runtime.NumCPU(), maxPinCPU+1)
	done := make(chan error)
	go func() {
		runtime.LockOSThread()
		// Never unlocked: this thread's mask changes, so it must die with the goroutine.
		for cpu := 0; cpu < n; cpu++ {
			if err := PinThread(cpu); err != nil {
				done <- err
				return
			}
			old, err := setThreadAffinity(uint64(1) << cpu)
			if err != nil {
				done <- err
				return
			}
			if old != uint64(1)<<cpu {
				t.Errorf("after PinThread(%d): mask %#x", cpu, old)
			}
		}
		done <- nil
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for _, cpu := range []int{-1, maxPinCPU + 1} {
		if err := PinThread(cpu); err == nil {
			t.Errorf("PinThread(%d) succeeded", cpu)
		}
	}
}

package sqpoll

import (
	"testing"
	"time"
)

// TestThreadsCPUTime checks that Threads reports an SQ thread's CPU time, which grows
// while the thread spins: the figure benchmarks add to the loops' own CPU per op.
func TestThreadsCPUTime(t *testing.T) {
	requireSQPoll(t, false)
	before := tasks(t)
	d := newDriver(t, Config{Mode: PerRing, Idle: 50 * time.Millisecond}, nil, -1)
	runNOPs(t, d, 1, 1)
	th := newThreads(t, before)
	if len(th) != 1 || th[0].TID <= 0 || len(th[0].CPUs) == 0 {
		t.Fatalf("threads: %+v", th)
	}
	start := th[0].CPUTime
	// Keep the thread busy: it spins for Idle after each submission.
	runNOPs(t, d, 2000, 32)
	waitAsleep(t, d)
	after := newThreads(t, before)
	if len(after) != 1 || after[0].CPUTime <= start {
		t.Fatalf("SQ thread CPU time %v then %+v: it should have grown", start, after)
	}
	t.Logf("SQ thread %d used %v", after[0].TID, after[0].CPUTime-start)
}

package runtime

import (
	"testing"
	"time"
)

// TestThiefWakeThenPostRuns replays what wakeThief does to a sleeping loop, and then a
// post to that loop: the thief clears the loop's sleeping flag and calls its driver's
// Wake, so the post that follows sees the flag false and sends no wake of its own. The
// posted task must still run: the loop's Wait returns for the thief's Wake (a wake
// coalesced with one still queued is covered by that one), and every tick drains the
// inbox after Wait returns. Each round also coalesces Wakes (two in a row, one of them
// from the thief) to cover the driver's pending-wake shortcut.
func TestThiefWakeThenPostRuns(t *testing.T) {
	forEachDriver(t, 2, func(t *testing.T, rt *Runtime) {
		l := rt.Loops()[1]
		for round := 0; round < 200; round++ {
			waitAsleep(t, l)
			if !l.inbox.sleeping.CompareAndSwap(true, false) {
				continue // woke meanwhile (the other loop's thief, say): try the next round
			}
			if err := l.d.Wake(); err != nil {
				t.Fatalf("round %d: Wake: %v", round, err)
			}
			if round%2 == 1 {
				_ = l.d.Wake() // coalesced with the thief's
			}
			ran := make(chan struct{})
			if err := l.Post(func() { close(ran) }); err != nil {
				t.Fatalf("round %d: Post: %v", round, err)
			}
			select {
			case <-ran:
			case <-time.After(testDeadline):
				t.Fatalf("round %d: a task posted after a thief's wake did not run\n%s", round, hung())
			}
		}
	})
}

// waitAsleep returns once l has announced sleep (it is in, or about to enter, its
// driver's Wait with nothing to do).
func waitAsleep(t *testing.T, l *Loop) {
	t.Helper()
	deadline := time.Now().Add(testDeadline)
	for !l.inbox.sleeping.Load() {
		if time.Now().After(deadline) {
			t.Fatalf("loop %d never slept\n%s", l.ID(), hung())
		}
		yieldForTest()
	}
}

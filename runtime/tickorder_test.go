package runtime

import (
	"context"
	"testing"
	"time"

	"github.com/zokio/zokio/internal/testkit"
	"github.com/zokio/zokio/poller"
)

// TestStallDeliversEarlierCompletionBeforeTimer stalls a loop in a task while a recv's
// data arrives and, after that, the recv's deadline timer falls due. When the loop
// resumes, the recv's completion must come first, and its callback, stopping the
// timer as a deadline's owner does, must keep the timer from firing: the events
// happened in that order. A tick that fired due timers before reaping would report the
// deadline first, though the data beat it.
func TestStallDeliversEarlierCompletionBeforeTimer(t *testing.T) {
	testkit.SkipUnderFaults(t, "the fault driver delays completions by design")
	forEachDriver(t, 1, func(t *testing.T, rt *Runtime) {
		a, b := socketpair(t)
		l := rt.Loops()[0]
		ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
		defer cancel()
		const deadline = 200 * time.Millisecond
		var order []string // on the loop
		result := make(chan []string, 2)
		var tm *Timer
		op := &poller.Op{Code: poller.OpRecv, Fd: b, Buf: make([]byte, 8)}
		op.Done = func(op *poller.Op) {
			order = append(order, "recv")
			if op.Res != 5 {
				t.Errorf("recv: res %d, want 5", op.Res)
			}
			if !tm.Stop() {
				order = append(order, "timer already fired")
			}
			result <- order
		}
		var due time.Time
		if err := l.Call(ctx, func() {
			if err := l.Submit(op); err != nil {
				t.Errorf("Submit: %v", err)
				return
			}
			tm = l.AfterFunc(deadline, func() {
				order = append(order, "timer")
				result <- order
			})
			due = time.Now().Add(deadline)
		}); err != nil {
			t.Fatal(err)
		}
		// The loop has handed the recv to its driver (the Call's tick ended in a
		// Wait); now stall it.
		stalled, release := make(chan struct{}), make(chan struct{})
		if err := l.Post(func() {
			close(stalled)
			<-release
		}); err != nil {
			t.Fatal(err)
		}
		select {
		case <-stalled:
		case <-ctx.Done():
			t.Fatalf("the stalling task never ran\n%s", hung())
		}
		if time.Now().After(due) {
			close(release)
			t.Skip("the host took longer than the deadline to run the stalling task")
		}
		if n, err := writeFd(a, []byte("hello")); n != 5 || err != nil {
			close(release)
			t.Fatalf("write: %d, %v", n, err)
		}
		// Let the deadline pass while the loop is stalled, then resume it.
		<-time.After(time.Until(due) + 20*time.Millisecond)
		close(release)
		select {
		case got := <-result:
			if len(got) != 1 || got[0] != "recv" {
				t.Fatalf("after the stall the loop delivered %q, want the recv first and no timer", got)
			}
		case <-ctx.Done():
			t.Fatalf("neither the recv nor the timer came\n%s", hung())
		}
		// The timer stays stopped: nothing more arrives.
		if err := l.Call(ctx, func() {
			if len(order) != 1 {
				t.Errorf("order %q after the recv, want only the recv", order)
			}
		}); err != nil {
			t.Fatal(err)
		}
	})
}

package runtime

import (
	"errors"
	goruntime "runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// yieldForTest lets other goroutines run in tests that spin on a condition; library code
// never does this (it blocks in the kernel instead).
func yieldForTest() { goruntime.Gosched() }

// stressDeadline is how long a stress test may run before it is declared hung: its own
// budget, or less when go test's -timeout comes first.
func stressDeadline(t *testing.T) time.Duration {
	d := 2 * time.Minute
	if dl, ok := t.Deadline(); ok {
		d = min(d, time.Until(dl)-5*time.Second)
	}
	return d
}

// failHung fails t with every goroutine's stack, the evidence for a lost wakeup.
func failHung(t *testing.T, what string) {
	buf := make([]byte, 1<<20)
	buf = buf[:goruntime.Stack(buf, true)]
	t.Fatalf("%s: hung; goroutines:\n%s", what, buf)
}

// halfPost is the first half of inbox.push: the swap, without the link store. The test
// finishes it later with finishPost, to hold the queue in the half-pushed state that a
// producer preempted between the two steps leaves behind.
func halfPost(q *inbox, t *task) (prev *task) {
	t.next.Store(nil)
	return q.head.Swap(t)
}

// finishPost completes a halfPost exactly as post does after its push.
func finishPost(q *inbox, prev, t *task) error {
	prev.next.Store(t)
	if q.sleeping.Load() && q.sleeping.CompareAndSwap(true, false) {
		return q.wake()
	}
	return nil
}

// FuzzInboxMatchesReference runs an op sequence (posts, half-done posts, pops, drains,
// sleep announcements and wakeups) against an inbox and its model, single-threaded but
// with half-pushed states, and checks after every op that results and wake counts match
// and that no wakeup is lost: an owner that is asleep with a task ready must have been
// woken.
func FuzzInboxMatchesReference(f *testing.F) {
	f.Add([]byte{0, 0, 1, 1, 1})
	f.Add([]byte{3, 0, 4, 1, 3, 5, 3, 6, 1, 1})
	f.Add([]byte{5, 5, 6, 3, 6, 3, 2, 9, 4, 0, 3, 0, 2, 1})
	f.Add([]byte{0, 5, 0, 3, 6, 1, 1, 3, 6, 1})
	f.Fuzz(func(t *testing.T, ops []byte) {
		var q inbox
		wakes := 0
		q.init(func() error { wakes++; return nil })
		tasks := newIDTasks()
		ref := &refInbox{}
		type half struct {
			prev, t *task
			v       int
		}
		var halves []half
		var dq taskDeque
		asleep, wokenSince := false, false
		for k, op := range ops {
			before := wakes
			switch op % 7 {
			case 0:
				tk, v := tasks.get()
				if err := q.post(tk); err != nil {
					t.Fatal(err)
				}
				ref.begin(v)
				ref.finish(v)
			case 1:
				got := q.pop()
				want, ok := ref.pop()
				if (got != nil) != ok || (ok && tasks.done(got) != want) {
					t.Fatalf("op %d: pop differs from the model (want %d, %v)", k, want, ok)
				}
			case 2:
				limit := int(op>>3) + 1
				n := q.drain(&dq, limit)
				for i := range n {
					want, ok := ref.pop()
					if !ok || tasks.done(dq.popFront()) != want {
						t.Fatalf("op %d: drain's task %d differs from the model (want %d %v)", k, i, want, ok)
					}
				}
				if n < limit && ref.ready() {
					t.Fatalf("op %d: drain stopped at %d with a task ready", k, n)
				}
			case 3:
				got := q.prepareSleep()
				if want := ref.prepareSleep(); got != want {
					t.Fatalf("op %d: prepareSleep = %v, model %v", k, got, want)
				}
				asleep, wokenSince = got, false
			case 4:
				q.awake()
				ref.awake()
				asleep = false
			case 5:
				tk, v := tasks.get()
				halves = append(halves, half{halfPost(&q, tk), tk, v})
				ref.begin(v)
			case 6:
				if len(halves) == 0 {
					continue
				}
				i := int(op>>3) % len(halves)
				h := halves[i]
				halves = slices.Delete(halves, i, i+1)
				if err := finishPost(&q, h.prev, h.t); err != nil {
					t.Fatal(err)
				}
				ref.finish(h.v)
			}
			wokenSince = wokenSince || wakes > before
			if wakes != ref.wakes {
				t.Fatalf("op %d: %d wakes, model %d", k, wakes, ref.wakes)
			}
			if asleep && !wokenSince && q.ready() {
				t.Fatalf("op %d: lost wakeup: owner asleep, task ready, no wake sent", k)
			}
		}
		for _, h := range halves {
			_ = finishPost(&q, h.prev, h.t)
			ref.finish(h.v)
		}
		for {
			got := q.pop()
			want, ok := ref.pop()
			if (got != nil) != ok {
				t.Fatalf("final drain differs from the model")
			}
			if !ok {
				break
			}
			if tasks.done(got) != want {
				t.Fatalf("final drain: task differs from the model")
			}
		}
	})
}

func TestInboxPostReturnsWakeError(t *testing.T) {
	errWake := errors.New("wake failed")
	var q inbox
	q.init(func() error { return errWake })
	ran := false
	if err := q.post(newTask(func() { ran = true })); err != nil {
		t.Fatalf("post to an awake owner: %v", err)
	}
	var free taskFreeList
	free.run(q.pop())
	if !ran || !q.prepareSleep() {
		t.Fatal("task did not run, or empty inbox refused sleep")
	}
	if err := q.post(newTask(func() {})); !errors.Is(err, errWake) {
		t.Fatalf("post to a sleeping owner returned %v, want the wake error", err)
	}
	if q.pop() == nil {
		t.Fatal("task not queued after a failed wake")
	}
}

// TestInboxStressNoLostWakeup has 8 goroutines post two million tasks (500,000 under
// -race) to one inbox whose owner drains them and sleeps whenever the inbox looks empty,
// blocking on a channel that only post's wake fills (level-triggered, as an eventfd).
// Producers of three kinds: flat out (contention on head, half-pushed states); in bursts
// that wait until the owner ran them (so the owner runs dry and sleeps often); and aimed
// at the owner's sleep edge (so posts land inside prepareSleep's announce-and-check
// window). Every task must run exactly once. A lost wakeup leaves the owner blocked
// until the deadline, which fails the test with a goroutine dump. Checked against two
// broken variants of the protocol (check before announcing; read the flag before
// pushing): each hangs this test within seconds.
func TestInboxStressNoLostWakeup(t *testing.T) {
	total := stressInboxTasks
	if testing.Short() {
		total /= 10
	}
	const producers = 8
	wakeCh := make(chan struct{}, 1) // level-triggered, like eventfd: wakes coalesce
	var q inbox
	q.init(func() error {
		select {
		case wakeCh <- struct{}{}:
		default:
		}
		return nil
	})
	hung := time.After(stressDeadline(t))
	runs := make([]uint8, total) // written by the owner only
	var edge atomic.Uint64       // counts the owner's attempts to sleep
	var wg sync.WaitGroup
	for p := range producers {
		wg.Go(func() {
			switch p % 4 {
			case 0, 2:
				stressFlatOut(&q, runs, p, producers)
			case 1:
				stressBursts(&q, runs, p, producers, hung)
			case 3:
				stressSleepEdges(&q, runs, p, producers, &edge, hung)
			}
		})
	}
	var free taskFreeList
	var dq taskDeque
	sleeps := 0
	for ran := 0; ran < total; {
		if q.drain(&dq, inboxDrainMax) > 0 {
			for tk := dq.popFront(); tk != nil; tk = dq.popFront() {
				free.run(tk)
				ran++
			}
			continue
		}
		// Tell the edge producers, then dawdle a random while so that their posts land
		// at random offsets around prepareSleep's announce-and-check window.
		e := edge.Add(1)
		for range e * 2654435761 % 512 {
			edge.Load()
		}
		if !q.prepareSleep() {
			continue
		}
		sleeps++
		select {
		case <-wakeCh:
		case <-hung:
			failHung(t, "inbox owner")
		}
		q.awake()
	}
	wg.Wait()
	for i, n := range runs {
		if n != 1 {
			t.Fatalf("task %d ran %d times", i, n)
		}
	}
	if q.pop() != nil {
		t.Fatal("inbox not empty after every task ran")
	}
	t.Logf("%d tasks, %d sleeps", total, sleeps)
}

// stressFlatOut posts tasks p, p+stride, ... to q as fast as it can.
func stressFlatOut(q *inbox, runs []uint8, p, stride int) {
	for i := p; i < len(runs); i += stride {
		if err := q.post(newTask(func() { runs[i]++ })); err != nil {
			panic(err)
		}
	}
}

// stressBursts posts its tasks in bursts of 1 to 64 and waits for the owner to run each
// burst before the next one, so the owner runs dry and sleeps between bursts.
func stressBursts(q *inbox, runs []uint8, p, stride int, hung <-chan time.Time) {
	ack := make(chan struct{}, 1)
	burst := 0
	for i := p; i < len(runs); i += stride {
		burst++
		fn := func() { runs[i]++ }
		last := burst >= 1+i%64 || i+stride >= len(runs)
		if last {
			fn = func() { runs[i]++; ack <- struct{}{} }
		}
		if err := q.post(newTask(fn)); err != nil {
			panic(err)
		}
		if last {
			burst = 0
			select {
			case <-ack:
			case <-hung:
				return // the owner reports the hang
			}
		}
	}
}

// stressSleepEdges posts one task each time the owner starts going to sleep (edge
// advances just before prepareSleep), aiming its posts at the window where the owner
// announces sleep and checks the queue: the window a broken protocol loses wakeups in.
func stressSleepEdges(q *inbox, runs []uint8, p, stride int, edge *atomic.Uint64, hung <-chan time.Time) {
	seen := edge.Load()
	for i := p; i < len(runs); i += stride {
		for e := edge.Load(); e == seen; e = edge.Load() {
			select {
			case <-hung:
				return
			default:
				yieldForTest()
			}
		}
		seen = edge.Load()
		if err := q.post(newTask(func() { runs[i]++ })); err != nil {
			panic(err)
		}
	}
}

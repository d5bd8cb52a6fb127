package runtime

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zokio/zokio/internal/testkit"
)

// forEachDriver runs fn as a subtest per driver with a fresh runtime of n loops, closed
// (and checked to close cleanly) when the subtest ends.
func forEachDriver(t *testing.T, n int, fn func(t *testing.T, rt *Runtime)) {
	for _, k := range testkit.Drivers(t) {
		t.Run(string(k), func(t *testing.T) {
			rt := newRuntime(t, Options{Loops: n, Driver: k})
			fn(t, rt)
		})
	}
}

func newRuntime(t *testing.T, o Options) *Runtime {
	t.Helper()
	before := snapshot(t)
	rt, err := New(o)
	if err != nil {
		t.Fatalf("New(%+v): %v", o, err)
	}
	before.watchThreads(t, rt)
	live.Track(t, rt)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
		defer cancel()
		if err := rt.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
		before.check(t, rt)
	})
	return rt
}

const testDeadline = 20 * time.Second

// live tracks the runtimes of the running tests (newRuntime), so that a test that
// times out shows what their loops still hold.
var live testkit.Registry

// hung is the evidence a timed-out wait prints.
func hung() string { return live.Report() }

// await waits for f with the test deadline.
func await[T any](t *testing.T, f *Future[T]) (T, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
	defer cancel()
	v, err := f.Await(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("future did not complete within %v\n%s", testDeadline, hung())
	}
	return v, err
}

func TestSpawnAndPost(t *testing.T) {
	forEachDriver(t, 2, func(t *testing.T, rt *Runtime) {
		var wg sync.WaitGroup
		var ran atomic.Int64
		for i := 0; i < 1000; i++ {
			wg.Add(2)
			if err := rt.Spawn(func() { ran.Add(1); wg.Done() }); err != nil {
				t.Fatal(err)
			}
			l := rt.Loops()[i%2]
			if err := l.Post(func() { ran.Add(1); wg.Done() }); err != nil {
				t.Fatal(err)
			}
		}
		waitGroup(t, &wg)
		if ran.Load() != 2000 {
			t.Fatalf("ran %d tasks, want 2000", ran.Load())
		}
	})
}

// TestPostRunsOnItsLoop checks that a posted task runs on its loop's thread, and that
// a loop's tasks run one at a time.
func TestPostRunsOnItsLoop(t *testing.T) {
	forEachDriver(t, 2, func(t *testing.T, rt *Runtime) {
		for _, l := range rt.Loops() {
			want := loopThread(t, l)
			got := make(chan int, 1)
			if err := l.Post(func() { got <- threadID() }); err != nil {
				t.Fatal(err)
			}
			if tid := <-got; tid != want {
				t.Fatalf("loop %d's task ran on thread %d, the loop is on %d", l.ID(), tid, want)
			}
		}
	})
}

// TestPostStress is the lost-wakeup proof at the runtime level: many goroutines post
// many tasks while loops sleep and wake; each task runs exactly once.
//
// It fails when no task finishes for testDeadline (progress.wait), not when all of
// them take longer than that: under load the eight posters outrun the two loops (they
// hold the Ps; a loop gets one back after each Gosched), and draining the backlog took
// 28 to 36 s under -race at GOMAXPROCS=1 and 2 with the machine's load at 22, and 40 s
// under Wine, while every task still ran. A lost task or wakeup stops the count.
func TestPostStress(t *testing.T) {
	forEachDriver(t, 2, func(t *testing.T, rt *Runtime) {
		const posters = 8
		per := stressPosts / posters
		counts := make([]atomic.Int32, posters*per)
		w := newProgress(int64(posters * per))
		var posting sync.WaitGroup
		defer posting.Wait() // also after a failure: no post outlives the test
		posting.Add(posters)
		for p := 0; p < posters; p++ {
			go func() {
				defer posting.Done()
				for i := 0; i < per; i++ {
					idx := p*per + i
					// Every loop gets Posts and Spawns alike: with the loop chosen by
					// idx%2 and the kind by i%2 (per is even), loop 0 got every Post,
					// three quarters of the work, none of it stealable.
					n := len(rt.Loops())
					l := rt.Loops()[idx%n]
					fn := func() { counts[idx].Add(1); w.done() }
					var err error
					if (idx/n)%2 == 0 {
						err = l.Post(fn)
					} else {
						err = rt.Spawn(fn)
					}
					if err != nil {
						t.Errorf("post: %v", err)
						w.done()
					}
				}
			}()
		}
		w.wait(t)
		for i := range counts {
			if n := counts[i].Load(); n != 1 {
				t.Fatalf("task %d ran %d times", i, n)
			}
		}
	})
}

// progress counts finished tasks for a test that tolerates a slow run but not a stall.
type progress struct {
	total    int64
	finished atomic.Int64
	moved    chan struct{} // a task finished since the waiter last looked (buffer 1)
	all      chan struct{} // closed by the task that finishes the last
}

func newProgress(total int64) *progress {
	return &progress{total: total, moved: make(chan struct{}, 1), all: make(chan struct{})}
}

// done records one finished task. Safe for concurrent use.
func (p *progress) done() {
	if p.finished.Add(1) == p.total {
		close(p.all)
	}
	select {
	case p.moved <- struct{}{}:
	default:
	}
}

// wait returns when every task finished, and fails with the hang report when none
// finishes for testDeadline: a stall, as a lost task or wakeup makes.
func (p *progress) wait(t *testing.T) {
	t.Helper()
	stall := time.NewTimer(testDeadline)
	defer stall.Stop()
	for {
		select {
		case <-p.all:
			return
		case <-p.moved:
			stall.Reset(testDeadline)
		case <-stall.C:
			t.Fatalf("tasks stalled: %d of %d finished, none in the last %v\n%s",
				p.finished.Load(), p.total, testDeadline, hung())
		}
	}
}

// TestIdleRuntimeDoesNotWake counts loop turns over a second of idleness, reading each
// loop's own counter from a task on the loop: the only turn in between must be the one
// that runs the second reading. An idle loop blocks in the kernel and does not wake.
func TestIdleRuntimeDoesNotWake(t *testing.T) {
	forEachDriver(t, 2, func(t *testing.T, rt *Runtime) {
		before := ownTicks(t, rt)
		<-time.After(time.Second)
		after := ownTicks(t, rt)
		for i := range before {
			if d := after[i] - before[i]; d != 1 {
				t.Fatalf("idle loop %d turned %d times in a second, want 0 besides the reading", i, d-1)
			}
		}
	})
}

// TestSpinningRuntimeStillSleeps: spinning before parking follows activity only; an idle
// runtime with SpinBeforePark set also stops turning.
func TestSpinningRuntimeStillSleeps(t *testing.T) {
	for _, k := range testkit.Drivers(t) {
		t.Run(string(k), func(t *testing.T) {
			rt := newRuntime(t, Options{Loops: 2, Driver: k, SpinBeforePark: 100 * time.Microsecond})
			var wg sync.WaitGroup
			wg.Add(1000)
			for i := 0; i < 1000; i++ {
				_ = rt.Spawn(wg.Done)
			}
			waitGroup(t, &wg)
			before := ownTicks(t, rt)
			<-time.After(500 * time.Millisecond)
			after := ownTicks(t, rt)
			for i := range before {
				if d := after[i] - before[i]; d != 1 {
					t.Fatalf("idle spinning loop %d turned %d times in half a second", i, d-1)
				}
			}
		})
	}
}

func TestCall(t *testing.T) {
	for _, spin := range []time.Duration{0, 50 * time.Microsecond} {
		for _, k := range testkit.Drivers(t) {
			t.Run(string(k)+"/spin="+spin.String(), func(t *testing.T) {
				rt := newRuntime(t, Options{Loops: 2, Driver: k, SpinBeforePark: spin})
				l := rt.Loops()[1]
				var tid int
				for i := 0; i < 1000; i++ {
					if err := l.Call(context.Background(), func() { tid = threadID() }); err != nil {
						t.Fatal(err)
					}
				}
				if tid != loopThread(t, l) {
					t.Fatalf("Call ran on thread %d, the loop is %d", tid, loopThread(t, l))
				}
				// A Call stuck behind a busy loop returns when its context ends.
				release := make(chan struct{})
				_ = l.Post(func() { <-release })
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
				defer cancel()
				ran := make(chan struct{})
				if err := l.Call(ctx, func() { close(ran) }); !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("Call behind a stuck loop: %v", err)
				}
				close(release)
				<-ran // it still runs, later
				if err := l.Call(context.Background(), nil); err == nil {
					t.Fatal("Call(nil) succeeded")
				}
			})
		}
	}
}

// ownTicks reads every loop's tick counter on the loop itself.
func ownTicks(t *testing.T, rt *Runtime) []uint64 {
	t.Helper()
	out := make([]uint64, len(rt.Loops()))
	var wg sync.WaitGroup
	for i, l := range rt.Loops() {
		wg.Add(1)
		if err := l.Post(func() { out[i] = l.count.ticks; wg.Done() }); err != nil {
			t.Fatal(err)
		}
	}
	waitGroup(t, &wg)
	return out
}

// TestStuckLoopDoesNotDelayStealable blocks one loop inside a task after it spawned
// stealable work: another loop must steal and run that work meanwhile.
func TestStuckLoopDoesNotDelayStealable(t *testing.T) {
	forEachDriver(t, 2, func(t *testing.T, rt *Runtime) {
		const n = 100
		release := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(n)
		var where sync.Map
		l0 := rt.Loops()[0]
		if err := l0.Post(func() {
			for i := 0; i < n; i++ {
				l0.Spawn(func() { where.Store(threadID(), true); wg.Done() })
			}
			<-release // the loop is stuck here, as in a long computation
		}); err != nil {
			t.Fatal(err)
		}
		waitGroup(t, &wg)
		close(release)
		if rt.Loops()[1].Stats().Stolen == 0 {
			t.Fatal("the tasks ran, but loop 1 stole none of them")
		}
	})
}

func TestCloseRefusesNewWork(t *testing.T) {
	for _, k := range testkit.Drivers(t) {
		t.Run(string(k), func(t *testing.T) {
			rt, err := New(Options{Loops: 2, Driver: k})
			if err != nil {
				t.Fatal(err)
			}
			var ran atomic.Int32
			for i := 0; i < 100; i++ {
				_ = rt.Spawn(func() { ran.Add(1) })
			}
			if err := rt.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			if ran.Load() != 100 {
				t.Fatalf("tasks queued before Close: %d of 100 ran", ran.Load())
			}
			for _, err := range []error{rt.Spawn(func() {}), rt.Loops()[0].Post(func() {})} {
				if !errors.Is(err, ErrClosed) || !errors.Is(err, net.ErrClosed) {
					t.Fatalf("work after Close: %v, want ErrClosed", err)
				}
			}
			if err := rt.Close(context.Background()); err != nil {
				t.Fatalf("second Close: %v", err)
			}
		})
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	if _, err := New(Options{CPUs: []int{1 << 20}}); err == nil {
		t.Fatal("New accepted a CPU outside the affinity mask")
	}
	if _, err := New(Options{Driver: "nonsense"}); err == nil {
		t.Fatal("New accepted an unknown driver")
	}
}

func TestStatsWhileRunning(t *testing.T) {
	forEachDriver(t, 2, func(t *testing.T, rt *Runtime) {
		stop := make(chan struct{})
		var readers sync.WaitGroup
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-stop:
					return
				default:
					_ = rt.Stats()
				}
			}
		}()
		var wg sync.WaitGroup
		wg.Add(1000)
		for i := 0; i < 1000; i++ {
			_ = rt.Spawn(wg.Done)
		}
		waitGroup(t, &wg)
		close(stop)
		readers.Wait()
		settle(t, rt)
		var run uint64
		for _, s := range rt.Stats() {
			run += s.TasksRun
			if s.Driver == "" || s.Ticks == 0 {
				t.Fatalf("stats incomplete: %+v", s)
			}
		}
		if run < 1000 {
			t.Fatalf("stats count %d tasks run, want at least 1000", run)
		}
	})
}

func waitGroup(t *testing.T, wg *sync.WaitGroup) {
	t.Helper()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(testDeadline):
		t.Fatalf("tasks did not finish within %v\n%s", testDeadline, hung())
	}
}

// settle waits until every loop has run one more full tick, so that stats are current
// and posts made so far are done.
func settle(t *testing.T, rt *Runtime) {
	t.Helper()
	var wg sync.WaitGroup
	for _, l := range rt.Loops() {
		wg.Add(1)
		if err := l.Post(wg.Done); err != nil {
			t.Fatal(err)
		}
	}
	waitGroup(t, &wg)
	// One more round: the first posts' ticks have published their stats by now.
	for _, l := range rt.Loops() {
		wg.Add(1)
		_ = l.Post(wg.Done)
	}
	waitGroup(t, &wg)
}

// TestPlacementPinsLoops checks each loop runs on the CPU its plan gave it.
func TestPlacementPinsLoops(t *testing.T) {
	forEachDriver(t, 2, func(t *testing.T, rt *Runtime) {
		plan := rt.Plan()
		if plan == nil || len(plan.Loops) != len(rt.Loops()) {
			t.Fatalf("plan %v for %d loops", plan, len(rt.Loops()))
		}
		for i, l := range rt.Loops() {
			if l.CPU() != plan.Loops[i].CPU {
				t.Fatalf("loop %d pinned to %d, plan says %d", i, l.CPU(), plan.Loops[i].CPU)
			}
			got := NewFuture[int]()
			_ = l.Post(func() { got.Complete(currentCPU(), nil) })
			if cpu, _ := await(t, got); cpu >= 0 && cpu != l.CPU() {
				t.Fatalf("loop %d runs on CPU %d, pinned to %d", i, cpu, l.CPU())
			}
		}
	})
}

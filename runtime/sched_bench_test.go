package runtime

import (
	goruntime "runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Micro-benchmarks of the scheduling primitives, each beside the standard-library way
// of doing the same thing on this machine:
//
//	go test -run='^$' -bench=. -benchmem ./runtime/
//
// One op is one task spawned and run, one task posted and run, or one timer armed and
// fired. The Zokio paths must report 0 allocs/op (DESIGN memory invariant 4) except
// where noted.

var benchSink int

// BenchmarkSpawnRun: a loop-local spawn (free list → run queue) and its run, against a
// goroutine per task joined with a WaitGroup.
func BenchmarkSpawnRun(b *testing.B) {
	fn := func() { benchSink++ }
	b.Run("runq", func(b *testing.B) {
		var q runq
		var free taskFreeList
		b.ReportAllocs()
		for b.Loop() {
			q.push(free.get(fn))
			free.run(q.pop())
		}
	})
	b.Run("runq/batch64", func(b *testing.B) {
		var q runq
		var free taskFreeList
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			q.push(free.get(fn))
			if i%64 == 63 {
				for t := q.pop(); t != nil; t = q.pop() {
					free.run(t)
				}
			}
		}
	})
	b.Run("pinned-deque", func(b *testing.B) {
		var d taskDeque
		var free taskFreeList
		b.ReportAllocs()
		for b.Loop() {
			d.pushBack(free.get(fn))
			free.run(d.popFront())
		}
	})
	b.Run("baseline/go+WaitGroup", func(b *testing.B) {
		var n atomic.Int64
		var wg sync.WaitGroup
		b.ReportAllocs()
		for b.Loop() {
			wg.Add(1)
			go func() {
				n.Add(1)
				wg.Done()
			}()
		}
		wg.Wait()
	})
}

// BenchmarkStealHalf: a full ring stolen in halves by another queue and popped there.
func BenchmarkStealHalf(b *testing.B) {
	var victim, thief runq
	var free taskFreeList
	fn := func() {}
	b.ReportAllocs()
	for b.Loop() {
		for range runqSize {
			victim.push(free.get(fn))
		}
		for victim.stealHalf(&thief) > 0 {
			for t := thief.pop(); t != nil; t = thief.pop() {
				free.run(t)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*runqSize), "ns/task")
}

// BenchmarkInboxPost: one goroutine posts tasks to an inbox whose owner drains, runs
// and sleeps (on a channel standing in for the driver's eventfd) when it runs dry;
// against a buffered channel of funcs. newTask allocates one task per post; the pool
// variant recycles tasks through a sync.Pool instead.
func BenchmarkInboxPost(b *testing.B) {
	var pool sync.Pool
	b.Run("inbox/alloc", func(b *testing.B) {
		benchInbox(b, func(fn func()) *task { return newTask(fn) }, func(*task) {})
	})
	b.Run("inbox/pool", func(b *testing.B) {
		get := func(fn func()) *task {
			t, _ := pool.Get().(*task)
			if t == nil {
				return newTask(fn)
			}
			t.fn, t.state = fn, taskQueued
			return t
		}
		benchInbox(b, get, func(t *task) { pool.Put(t) })
	})
	b.Run("inbox/reuse", func(b *testing.B) {
		// A fixed ring of tasks, each re-posted once the owner has run it: the queue's
		// own cost, as the channel baseline pays no allocation either.
		const k = 4096
		tasks := make([]task, k)
		var posted int64
		var ran atomic.Int64
		get := func(fn func()) *task {
			for posted-ran.Load() >= k {
				goruntime.Gosched()
			}
			t := &tasks[posted%k]
			posted++
			t.fn, t.state = fn, taskQueued
			return t
		}
		benchInbox(b, get, func(*task) { ran.Add(1) })
	})
	b.Run("inbox/alloc/4-producers", func(b *testing.B) {
		benchInbox(b, func(fn func()) *task { return newTask(fn) }, func(*task) {})
	})
	b.Run("baseline/chan", func(b *testing.B) {
		benchChan(b)
	})
	b.Run("baseline/chan/4-producers", func(b *testing.B) {
		benchChan(b)
	})
}

// producers returns how many goroutines a BenchmarkInboxPost variant posts from.
func producers(b *testing.B) int {
	if strings.HasSuffix(b.Name(), "/4-producers") {
		return 4
	}
	return 1
}

// post runs postOne b.N times in all, from producers(b) goroutines.
func post(b *testing.B, postOne func()) {
	b.ReportAllocs()
	if producers(b) == 1 {
		for b.Loop() {
			postOne()
		}
		return
	}
	b.SetParallelism(producers(b) / goruntime.GOMAXPROCS(0))
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			postOne()
		}
	})
}

func benchChan(b *testing.B) {
	{
		ch := make(chan func(), 256)
		done := make(chan struct{})
		go func() {
			for fn := range ch {
				fn()
			}
			close(done)
		}()
		fn := func() { benchSink++ }
		post(b, func() { ch <- fn })
		close(ch)
		<-done
	}
}

func benchInbox(b *testing.B, get func(func()) *task, put func(*task)) {
	wakeCh := make(chan struct{}, 1)
	var q inbox
	q.init(func() error {
		select {
		case wakeCh <- struct{}{}:
		default:
		}
		return nil
	})
	var stop atomic.Bool
	fn := func() { benchSink++ }
	done := make(chan struct{})
	go func() { // the owner
		defer close(done)
		for !stop.Load() {
			if t := q.pop(); t != nil {
				fn := t.fn
				t.fn, t.state = nil, taskFree
				put(t)
				fn()
				continue
			}
			if q.prepareSleep() {
				<-wakeCh
				q.awake()
			}
		}
	}()
	post(b, func() {
		if err := q.post(get(fn)); err != nil {
			panic(err)
		}
	})
	stop.Store(true)
	_ = q.post(newTask(func() {}))
	<-done
}

// BenchmarkTimerArmFire: batches of 1024 timers armed at random deadlines within 10 µs
// and fired, against time.AfterFunc with the same delays. The heap runs on a simulated
// clock (a loop reads nanotime once per tick, not per timer); AfterFunc includes up to
// 10 µs of waiting per batch, under 10 ns per timer.
func BenchmarkTimerArmFire(b *testing.B) {
	const batch = 1024
	var delays [batch]int64
	for i := range delays {
		delays[i] = int64(uint32(i)*2654435761) % 10_000
	}
	b.Run("heap", func(b *testing.B) {
		var h timerHeap
		fired := 0
		fn := func(any, int64) { fired++ }
		timers := make([]timer, batch)
		for i := range timers {
			timers[i] = timer{fn: fn}
		}
		now := int64(0)
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			h.arm(&timers[i%batch], now+delays[i%batch])
			if i%batch == batch-1 {
				now += 10_000
				h.fireDue(now, batch)
			}
		}
	})
	b.Run("baseline/time.AfterFunc", func(b *testing.B) {
		var wg sync.WaitGroup
		fn := func() { wg.Done() }
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			wg.Add(1)
			time.AfterFunc(time.Duration(delays[i%batch]), fn)
			if i%batch == batch-1 {
				wg.Wait()
			}
		}
		wg.Wait()
	})
}

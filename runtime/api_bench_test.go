package runtime

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/zokio/zokio/runtime/driver"
)

// Benchmarks of the runtime's public paths, with their goroutine baselines beside them.
// bench/runtime runs the same workloads side by side with repetitions and medians.

func benchRuntime(b *testing.B, loops int, spin time.Duration) *Runtime {
	b.Helper()
	rt, err := New(Options{Loops: loops, Driver: benchDriver, SpinBeforePark: spin})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = rt.Close(context.Background()) })
	return rt
}

// BenchmarkLoopSpawnRun: code on a loop spawns tasks in batches of 64 that run there;
// the last of each batch spawns the next, so tasks are recycled as in steady state.
// Compare BenchmarkGoWaitGroup.
func BenchmarkLoopSpawnRun(b *testing.B) {
	rt := benchRuntime(b, 1, 0)
	l := rt.Loops()[0]
	done := make(chan struct{})
	const batch = 64
	left, inBatch := 0, 0
	var task, spawnBatch func()
	task = func() {
		left--
		if inBatch--; inBatch == 0 {
			if left == 0 {
				done <- struct{}{}
				return
			}
			spawnBatch()
		}
	}
	spawnBatch = func() {
		inBatch = min(batch, left)
		for i := 0; i < inBatch; i++ {
			l.Spawn(task)
		}
	}
	_ = l.Post(func() { left = 1; spawnBatch() }) // warm the free list
	<-done
	b.ReportAllocs()
	b.ResetTimer()
	_ = l.Post(func() { left = b.N; spawnBatch() })
	<-done
}

func BenchmarkGoWaitGroup(b *testing.B) {
	var wg sync.WaitGroup
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		wg.Add(1)
		go wg.Done()
	}
	wg.Wait()
}

// BenchmarkBlockOnRoundTrip: a goroutine runs a function on a loop and waits for its
// result, with and without spinning before parking. Compare BenchmarkChanPingPong.
func BenchmarkBlockOnRoundTrip(b *testing.B) {
	for _, spin := range []time.Duration{0, 50 * time.Microsecond} {
		b.Run("spin="+spin.String(), func(b *testing.B) {
			rt := benchRuntime(b, 1, spin)
			ctx := context.Background()
			fn := func(*Loop) *Future[int] { return Ready(1) }
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := BlockOn(ctx, rt, fn); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCallRoundTrip: a goroutine runs a function on a loop and waits for it to
// return (Loop.Call), with and without spinning before parking.
func BenchmarkCallRoundTrip(b *testing.B) {
	for _, spin := range []time.Duration{0, 50 * time.Microsecond} {
		b.Run("spin="+spin.String(), func(b *testing.B) {
			rt := benchRuntime(b, 1, spin)
			l := rt.Loops()[0]
			ctx := context.Background()
			n := 0
			fn := func() { n++ }
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if err := l.Call(ctx, fn); err != nil {
					b.Fatal(err)
				}
			}
			if n != b.N {
				b.Fatalf("ran %d of %d", n, b.N)
			}
		})
	}
}

func BenchmarkChanPingPong(b *testing.B) {
	ping, pong := make(chan struct{}), make(chan struct{})
	go func() {
		for range ping {
			pong <- struct{}{}
		}
	}()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		ping <- struct{}{}
		<-pong
	}
	close(ping)
}

// BenchmarkLoopTimerArmFire: a loop arms timers in rounds of 256 reusable timers due at
// once, and each round's last firing arms the next: arm+fire throughput, as a server
// with many deadlines sees it. Compare BenchmarkTimeAfterFunc.
func BenchmarkLoopTimerArmFire(b *testing.B) {
	rt := benchRuntime(b, 1, 0)
	l := rt.Loops()[0]
	done := make(chan struct{})
	const round = 256
	left, inRound := 0, 0
	timers := make([]*Timer, round)
	var armRound func()
	fire := func() {
		left--
		if inRound--; inRound == 0 {
			if left == 0 {
				done <- struct{}{}
				return
			}
			armRound()
		}
	}
	armRound = func() {
		inRound = min(round, left)
		for i := 0; i < inRound; i++ {
			timers[i].Reset(0)
		}
	}
	_ = l.Post(func() {
		for i := range timers {
			timers[i] = l.NewTimer(fire)
		}
		left = 1
		armRound()
	})
	<-done
	b.ReportAllocs()
	b.ResetTimer()
	_ = l.Post(func() { left = b.N; armRound() })
	<-done
}

func BenchmarkTimeAfterFunc(b *testing.B) {
	const round = 256
	var wg sync.WaitGroup
	fire := wg.Done
	b.ReportAllocs()
	for left := b.N; left > 0; left -= round {
		n := min(round, left)
		wg.Add(n)
		for i := 0; i < n; i++ {
			time.AfterFunc(0, fire)
		}
		wg.Wait()
	}
}

var benchDriver = driver.Kind(envOr("ZOKIO_BENCH_DRIVER", "auto"))

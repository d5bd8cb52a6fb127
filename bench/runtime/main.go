// Command runtime measures Zokio's runtime against the Go primitives it replaces, side
// by side in one run: (a) loop-local spawn+run vs `go f()` + WaitGroup, (b) a goroutine
// running a function on a loop and waiting for it vs a channel ping-pong between two
// goroutines, (c) timers armed and fired vs time.AfterFunc. Each repetition runs every
// contender once, in an order rotated per repetition; the report gives medians with
// min–max, ns/op, CPU ns/op (process CPU time, all threads) and allocations per op.
//
//	cd bench && go run ./runtime -reps=7
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	goruntime "runtime"
	"sync"
	"syscall"
	"time"

	"github.com/zokio/zokio/bench/internal/stats"
	"github.com/zokio/zokio/runtime"
	"github.com/zokio/zokio/runtime/driver"
)

type contender struct {
	group, name string
	ops         int
	setup       func() (run func(n int), teardown func())
}

type sample struct{ nsOp, cpuOp, allocsOp float64 }

func main() {
	reps := flag.Int("reps", 7, "repetitions")
	scale := flag.Float64("scale", 1, "multiply the op counts")
	drv := flag.String("driver", "auto", "driver for the runtime: auto, uring, epoll")
	flag.Parse()
	kind, err := driver.ParseKind(*drv)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	cs := contenders(kind, *scale)
	results := map[string][]sample{}
	for r := 0; r < *reps; r++ {
		for i := range cs {
			c := cs[(i+r)%len(cs)]
			s := measure(c)
			results[c.group+"/"+c.name] = append(results[c.group+"/"+c.name], s)
			fmt.Fprintf(os.Stderr, "rep %d %-10s %-28s %9.1f ns/op %9.1f cpu ns/op %6.2f allocs/op\n",
				r, c.group, c.name, s.nsOp, s.cpuOp, s.allocsOp)
		}
	}
	report(cs, results, *reps, kind)
}

// measure runs one contender once: setup, a warm-up tenth, then the timed run.
func measure(c contender) sample {
	run, teardown := c.setup()
	defer teardown()
	run(max(c.ops/10, 1))
	goruntime.GC()
	var ms0, ms1 goruntime.MemStats
	goruntime.ReadMemStats(&ms0)
	cpu0 := cpuNow()
	t0 := time.Now()
	run(c.ops)
	wall := time.Since(t0)
	cpu := cpuNow() - cpu0
	goruntime.ReadMemStats(&ms1)
	n := float64(c.ops)
	return sample{float64(wall.Nanoseconds()) / n, float64(cpu.Nanoseconds()) / n, float64(ms1.Mallocs-ms0.Mallocs) / n}
}

func cpuNow() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func newRuntime(kind driver.Kind, spin time.Duration) *runtime.Runtime {
	rt, err := runtime.New(runtime.Options{Loops: 1, Driver: kind, SpinBeforePark: spin})
	if err != nil {
		fmt.Fprintln(os.Stderr, "runtime.New:", err)
		os.Exit(1)
	}
	return rt
}

func closeRuntime(rt *runtime.Runtime) func() {
	return func() { _ = rt.Close(context.Background()) }
}

func contenders(kind driver.Kind, scale float64) []contender {
	n := func(v int) int { return max(int(float64(v)*scale), 1) }
	return []contender{
		{"a-spawn", "zokio Loop.Spawn+run", n(20_000_000), func() (func(int), func()) {
			rt := newRuntime(kind, 0)
			return spawnRun(rt.Loops()[0]), closeRuntime(rt)
		}},
		{"a-spawn", "go f() + WaitGroup", n(2_000_000), func() (func(int), func()) {
			return goWaitGroup, func() {}
		}},
		{"b-roundtrip", "zokio Loop.Call", n(20_000), func() (func(int), func()) {
			rt := newRuntime(kind, 0)
			return call(rt.Loops()[0]), closeRuntime(rt)
		}},
		{"b-roundtrip", "zokio Loop.Call spin=50µs", n(1_000_000), func() (func(int), func()) {
			rt := newRuntime(kind, 50*time.Microsecond)
			return call(rt.Loops()[0]), closeRuntime(rt)
		}},
		{"b-roundtrip", "chan ping-pong", n(2_000_000), func() (func(int), func()) {
			return chanPingPong()
		}},
		{"c-timers", "zokio Timer arm+fire", n(10_000_000), func() (func(int), func()) {
			rt := newRuntime(kind, 0)
			return timers(rt.Loops()[0]), closeRuntime(rt)
		}},
		{"c-timers", "time.AfterFunc", n(1_000_000), func() (func(int), func()) {
			return afterFunc, func() {}
		}},
	}
}

// spawnRun: a task on the loop spawns tasks in batches of 64; the last of each batch
// spawns the next, so tasks recycle as in steady state.
func spawnRun(l *runtime.Loop) func(int) {
	const batch = 64
	done := make(chan struct{})
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
	return func(n int) {
		_ = l.Post(func() { left = n; spawnBatch() })
		<-done
	}
}

func goWaitGroup(n int) {
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go wg.Done()
	}
	wg.Wait()
}

func call(l *runtime.Loop) func(int) {
	ctx := context.Background()
	x := 0
	fn := func() { x++ }
	return func(n int) {
		for i := 0; i < n; i++ {
			if err := l.Call(ctx, fn); err != nil {
				panic(err)
			}
		}
	}
}

func chanPingPong() (func(int), func()) {
	ping, pong := make(chan struct{}), make(chan struct{})
	go func() {
		for range ping {
			pong <- struct{}{}
		}
	}()
	return func(n int) {
		for i := 0; i < n; i++ {
			ping <- struct{}{}
			<-pong
		}
	}, func() { close(ping) }
}

// timers: rounds of 256 reusable timers due at once; each round's last firing arms
// the next.
func timers(l *runtime.Loop) func(int) {
	const round = 256
	done := make(chan struct{})
	left, inRound := 0, 0
	ts := make([]*runtime.Timer, round)
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
			ts[i].Reset(0)
		}
	}
	_ = l.Call(context.Background(), func() {
		for i := range ts {
			ts[i] = l.NewTimer(fire)
		}
	})
	return func(n int) {
		_ = l.Post(func() { left = n; armRound() })
		<-done
	}
}

func afterFunc(n int) {
	const round = 256
	var wg sync.WaitGroup
	for left := n; left > 0; left -= round {
		k := min(round, left)
		wg.Add(k)
		for i := 0; i < k; i++ {
			time.AfterFunc(0, wg.Done)
		}
		wg.Wait()
	}
}

func report(cs []contender, res map[string][]sample, reps int, kind driver.Kind) {
	dec, _ := driver.Choose(kind)
	fmt.Printf("## Runtime primitives — %s\n\n", time.Now().UTC().Format(time.RFC3339))
	fmt.Printf("%s/%s, %d CPUs, %s, driver %s; %d repetitions, order rotated per repetition; medians (min–max).\n\n",
		goruntime.GOOS, goruntime.GOARCH, goruntime.NumCPU(), goruntime.Version(), dec.Kind, reps)
	fmt.Println("| measure | contender | ns/op | CPU ns/op | allocs/op |")
	fmt.Println("|---|---|---:|---:|---:|")
	med := map[string]float64{}
	for _, c := range cs {
		k := c.group + "/" + c.name
		s := res[k]
		ns := spreadOf(s, func(x sample) float64 { return x.nsOp })
		cpu := spreadOf(s, func(x sample) float64 { return x.cpuOp })
		al := spreadOf(s, func(x sample) float64 { return x.allocsOp })
		med[k] = ns.Median
		fmt.Printf("| %s | %s | %s | %s | %.2f |\n", c.group, c.name, ns.Format(1, "%.1f"), cpu.Format(1, "%.1f"), al.Median)
	}
	fmt.Println()
	ratio := func(label, a, b string, target string) {
		fmt.Printf("- %s: %.2f× (%s)\n", label, med[b]/med[a], target)
	}
	ratio("(a) spawn+run rate, zokio ÷ goroutines", "a-spawn/zokio Loop.Spawn+run", "a-spawn/go f() + WaitGroup", "target ≥ 5×")
	fmt.Printf("- (b) round trip, zokio ÷ channel ping-pong: %.2f× sleeping, %.2f× with spin=50µs (target ≤ 1.5×)\n",
		med["b-roundtrip/zokio Loop.Call"]/med["b-roundtrip/chan ping-pong"],
		med["b-roundtrip/zokio Loop.Call spin=50µs"]/med["b-roundtrip/chan ping-pong"])
	ratio("(c) timer arm+fire rate, zokio ÷ time.AfterFunc", "c-timers/zokio Timer arm+fire", "c-timers/time.AfterFunc", "target ≥ 3×")
}

// spreadOf returns the spread of f over the samples.
func spreadOf(s []sample, f func(sample) float64) stats.Spread {
	v := make([]float64, len(s))
	for i := range s {
		v[i] = f(s[i])
	}
	return stats.Of(v)
}

package zfile

import (
	"context"
	"os"
	goruntime "runtime"
	"sync"
	"testing"
	"unsafe"

	"github.com/zokio/zokio/internal/testkit"
)

// TestSteadyStateAllocs: reads allocate nothing in steady state, on every path: the
// fast path, the ring path from a goroutine, the loop-level API and a reused batch
// (DESIGN.md invariant 4).
func TestSteadyStateAllocs(t *testing.T) {
	testkit.SkipUnderFaults(t, "the fault-injecting wrapper allocates per op")
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	if testing.AllocsPerRun(10, func() { checkptrProbe() }) > 0 {
		t.Skip("built with -d=checkptr, whose checks make unsafe conversions allocate")
	}
	forEachDriver(t, 1, func(t *testing.T, e *env) {
		name := e.path("data")
		writeFile(t, name, 1<<20)
		for _, ring := range []bool{false, true} {
			f := mustOpen(t, e, name, os.O_RDONLY, OpenOptions{NoFastPath: ring, Fixed: true})
			p := make([]byte, 4096)
			off := int64(0)
			read := func() {
				off = (off + 4096*7) % (1 << 20)
				if _, err := f.ReadAt(p, off); err != nil {
					t.Fatal(err)
				}
			}
			for range 100 {
				read() // warm the pools
			}
			if a := testing.AllocsPerRun(2000, read); a > 0.01 {
				t.Errorf("ReadAt (ring only: %v): %.3f allocations per read", ring, a)
			}
			bufs := [][]byte{p[:100], p[100:]}
			if a := testing.AllocsPerRun(200, func() { _, _ = f.ReadvAt(bufs, 0) }); a > 0.01 {
				t.Errorf("ReadvAt: %.3f allocations per read", a)
			}
			b := NewBatch(f.Loop())
			batch := func() {
				for i := 0; i < 8; i++ {
					b.ReadAt(f, p, int64(i)*4096)
				}
				if err := b.Wait(context.Background()); err != nil {
					t.Fatal(err)
				}
				_ = b.Reset()
			}
			for range 20 {
				batch()
			}
			if a := testing.AllocsPerRun(200, batch); a > 0.05 {
				t.Errorf("batch of 8 (ring only: %v): %.3f allocations", ring, a)
			}
			if a := loopAllocs(t, f, p); a > 0.01 {
				t.Errorf("ReadAtOn: %.3f allocations per read", a)
			}
			f.Close()
		}
	})
}

// loopAllocs runs reads through ReadAtOn back to back on the file's loop with one
// reused callback and returns the allocations per read.
func loopAllocs(t *testing.T, f *File, p []byte) float64 {
	const n = 5000
	l := f.Loop()
	var wg sync.WaitGroup
	left := 0
	var cb func(int, error)
	cb = func(_ int, err error) {
		if err != nil {
			t.Error(err)
		}
		if left--; left <= 0 {
			wg.Done()
			return
		}
		if err := f.ReadAtOn(l, p, int64(left%64)*4096, cb); err != nil {
			t.Error(err)
		}
	}
	run := func(k int) {
		wg.Add(1)
		_ = l.Call(context.Background(), func() {
			left = k
			if err := f.ReadAtOn(l, p, 0, cb); err != nil {
				t.Error(err)
			}
		})
		wg.Wait()
	}
	run(100) // warm the loop's free list
	var ms goruntime.MemStats
	goruntime.ReadMemStats(&ms)
	before := ms.Mallocs
	run(n)
	goruntime.ReadMemStats(&ms)
	// The Call allocates its closure and waiter: a handful of objects in all.
	return max(0, float64(ms.Mallocs-before)-4) / n
}

// checkptrProbe allocates only when the build instruments unsafe pointer arithmetic
// (-gcflags=all=-d=checkptr): the instrumentation makes v escape.
//
//go:noinline
func checkptrProbe() uintptr {
	var v [2]uint64
	return uintptr(unsafe.Add(unsafe.Pointer(&v[0]), 8))
}

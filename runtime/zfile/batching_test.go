package zfile

import (
	"context"
	"os"
	"sync"
	"testing"
)

// TestOneEnterPerTick: reads that 64 goroutines hand to a loop during one of its turns
// reach the kernel together. The loop is held busy while the goroutines post, so their
// ops all wait in its inbox; once it is free, a handful of io_uring_enter calls carry
// all 64 (one to submit, the rest to collect completions).
func TestOneEnterPerTick(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, e *env) {
		if !e.uring() {
			t.Skip("counts io_uring_enter calls")
		}
		name := e.path("data")
		writeFile(t, name, 64*4096)
		f := mustOpen(t, e, name, os.O_RDONLY, OpenOptions{NoFastPath: true})
		defer f.Close()
		l := f.Loop()
		hold, held := make(chan struct{}), make(chan struct{})
		go func() {
			_ = l.Call(context.Background(), func() { close(held); <-hold })
		}()
		<-held
		before := l.Stats()
		var wg sync.WaitGroup
		for i := 0; i < 64; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				p := make([]byte, 4096)
				if _, err := f.ReadAt(p, int64(i)*4096); err != nil {
					t.Error(err)
				}
			}(i)
		}
		waitInFlight(t, f, 64)
		close(hold)
		wg.Wait()
		// Stats are published at the end of each tick: one more turn makes them current.
		_ = l.Call(context.Background(), func() {})
		after := l.Stats()
		ops := after.OpsSubmitted - before.OpsSubmitted
		enters := after.KernelEnters - before.KernelEnters
		t.Logf("%d ops, %d enters", ops, enters)
		if ops < 64 || enters > 8 {
			t.Errorf("%d ops took %d io_uring_enter calls", ops, enters)
		}
	})
}

package runtime

import (
	"context"
	"sync"
	"testing"

	"github.com/zokio/zokio/internal/testkit"
	"github.com/zokio/zokio/poller"
	"github.com/zokio/zokio/runtime/driver"
	"github.com/zokio/zokio/uring"
)

// TestUnlockedLoops: with Options.UnlockedLoops a loop is unpinned, its io_uring ring
// has neither SINGLE_ISSUER nor DEFER_TASKRUN (COOP_TASKRUN instead), calls from many
// goroutines all run, and an arena registers and unregisters both from a goroutine
// (through the loop) and from code on the loop (at once: the loop knows its
// goroutine, as no thread names it).
func TestUnlockedLoops(t *testing.T) {
	for _, k := range testkit.Drivers(t) {
		t.Run(string(k), func(t *testing.T) {
			rt, err := New(Options{Loops: 1, Driver: k, UnlockedLoops: true})
			if err != nil {
				t.Fatal(err)
			}
			live.Track(t, rt)
			defer func() {
				ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
				defer cancel()
				if err := rt.Close(ctx); err != nil {
					t.Errorf("Close: %v", err)
				}
			}()
			l := rt.Loops()[0]
			if l.CPU() != -1 || l.tid != 0 || l.goid == 0 {
				t.Fatalf("unlocked loop: CPU %d, thread %d, goroutine %d", l.CPU(), l.tid, l.goid)
			}
			if k == driver.Uring {
				var d poller.Driver
				if err := l.Call(context.Background(), func() { d = l.Driver() }); err != nil {
					t.Fatal(err)
				}
				if w, ok := d.(interface{ Unwrap() poller.Driver }); ok {
					d = w.Unwrap()
				}
				ud, ok := d.(*uring.Driver)
				if !ok {
					t.Fatalf("driver %T", d)
				}
				f := ud.Ring().Flags()
				if f&(uring.SetupSingleIssuer|uring.SetupDeferTaskrun) != 0 || f&uring.SetupCoopTaskrun == 0 {
					t.Fatalf("ring flags %#x: want COOP_TASKRUN without SINGLE_ISSUER or DEFER_TASKRUN", f)
				}
			}
			const goroutines, calls = 8, 200
			n := 0
			var wg sync.WaitGroup
			for range goroutines {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range calls {
						if err := l.Call(context.Background(), func() { n++ }); err != nil {
							t.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			if n != goroutines*calls {
				t.Fatalf("%d calls ran, want %d", n, goroutines*calls)
			}
			uringDrv := k == driver.Uring
			a, err := NewArena(context.Background(), l, ArenaOptions{Count: 2})
			if err != nil {
				t.Fatal(err)
			}
			if a.Registered() != uringDrv {
				t.Fatalf("arena from a goroutine: registered %v (%v)", a.Registered(), a.RegisterErr())
			}
			if err := a.Close(); err != nil {
				t.Fatal(err)
			}
			var onErr, closeErr error
			var registered bool
			if err := l.Call(context.Background(), func() {
				var b *Arena
				if b, onErr = NewArena(context.Background(), l, ArenaOptions{Count: 2}); onErr != nil {
					return
				}
				registered = b.Registered()
				closeErr = b.Close()
			}); err != nil {
				t.Fatal(err)
			}
			if onErr != nil || closeErr != nil || registered != uringDrv {
				t.Fatalf("arena on the loop: %v, close %v, registered %v", onErr, closeErr, registered)
			}
		})
	}
}

// TestCurGoroutine: goroutine numbers are read, and differ between goroutines.
func TestCurGoroutine(t *testing.T) {
	me := curGoroutine()
	other := make(chan uint64)
	go func() { other <- curGoroutine() }()
	if o := <-other; me == 0 || o == 0 || o == me {
		t.Fatalf("goroutine numbers %d and %d", me, o)
	}
}

package zfile

import (
	"os"
	"testing"

	"github.com/zokio/zokio/poller"
)

// TestEagerSubmitEnters counts the driver's kernel enters around WriteAtOn calls made
// in one loop task: with OpenOptions.EagerSubmit each write enters the kernel inside
// the call on io_uring (one enter each), without it none does (they go out together
// at the loop's next turn); epoll, which starts every op in Submit, makes none either
// way. Then every write completes and the file holds what was written.
func TestEagerSubmitEnters(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, e *env) {
		l := e.rt.Loops()[0]
		eager := mustOpen(t, e, e.path("eager"), os.O_RDWR|os.O_CREATE, OpenOptions{EagerSubmit: true})
		defer eager.Close()
		plain := mustOpen(t, e, e.path("plain"), os.O_RDWR|os.O_CREATE, OpenOptions{})
		defer plain.Close()
		const n = 4
		done := make(chan error, 2*n)
		cb := func(_ int, err error) { done <- err }
		var eagerEnters, plainEnters uint64
		err := l.Call(ctxT(t), func() {
			sr, ok := l.Driver().(poller.StatsReporter)
			if !ok {
				t.Error("driver keeps no stats")
				return
			}
			e0 := sr.Stats().Enters
			for i := range n {
				if err := eager.WriteAtOn(l, pattern(int64(i)*512, 512), int64(i)*512, cb); err != nil {
					t.Error(err)
				}
			}
			e1 := sr.Stats().Enters
			for i := range n {
				if err := plain.WriteAtOn(l, pattern(int64(i)*512, 512), int64(i)*512, cb); err != nil {
					t.Error(err)
				}
			}
			eagerEnters, plainEnters = e1-e0, sr.Stats().Enters-e1
		})
		if err != nil {
			t.Fatal(err)
		}
		want := uint64(0)
		if e.uring() {
			want = n
		}
		if eagerEnters != want || plainEnters != 0 {
			t.Errorf("enters in the task: %d for %d eager writes (want %d), %d for plain ones (want 0)",
				eagerEnters, n, want, plainEnters)
		}
		for range 2 * n {
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		}
		for _, name := range []string{"eager", "plain"} {
			if got, _ := os.ReadFile(e.path(name)); !equal(got, pattern(0, n*512)) {
				t.Errorf("%s file holds %d bytes, not what was written", name, len(got))
			}
		}
	})
}

// TestEagerSubmitAPIs runs an eager file through the goroutine API and a Batch with a
// write+fsync chain: results are the same as without the option.
func TestEagerSubmitAPIs(t *testing.T) {
	forEachDriver(t, 2, func(t *testing.T, e *env) {
		f := mustOpen(t, e, e.path("f"), os.O_RDWR|os.O_CREATE, OpenOptions{EagerSubmit: true, Fixed: true})
		defer f.Close()
		if n, err := f.WriteAt(pattern(0, 8192), 0); n != 8192 || err != nil {
			t.Fatalf("WriteAt: %d %v", n, err)
		}
		if err := f.Sync(); err != nil {
			t.Fatal(err)
		}
		bl := e.rt.Loops()[1] // another loop than the file's, too
		if bl == f.loop {
			bl = e.rt.Loops()[0]
		}
		b := NewBatch(bl)
		b.WriteAt(f, pattern(8192, 4096), 8192)
		b.Link()
		b.Datasync(f)
		b.WriteAt(f, pattern(12288, 4096), 12288)
		if err := b.Wait(ctxT(t)); err != nil {
			t.Fatalf("batch: %v", err)
		}
		p := make([]byte, 16384)
		if n, err := f.ReadAt(p, 0); n != len(p) || err != nil || !equal(p, pattern(0, len(p))) {
			t.Fatalf("ReadAt: %d %v (content matches: %v)", n, err, equal(p, pattern(0, len(p))))
		}
	})
}

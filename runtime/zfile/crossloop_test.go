package zfile

import (
	"os"
	"testing"
)

// TestOtherLoopOps uses a file from a loop other than its home loop: ReadAtOn and
// WriteAtOn called on that loop, and a Batch whose ops run there. On Windows the file's
// handle belongs to its home loop's completion port for its life, and the other loop's
// driver runs these reads and writes on its workers; everywhere, they complete with the
// data and never hang.
func TestOtherLoopOps(t *testing.T) {
	forEachDriver(t, 2, func(t *testing.T, e *env) {
		home, other := e.rt.Loops()[0], e.rt.Loops()[1]
		f := mustOpen(t, e, e.path("f"), os.O_RDWR|os.O_CREATE, OpenOptions{Loop: home})
		defer f.Close()
		if n, err := f.WriteAt(pattern(0, 8192), 0); n != 8192 || err != nil {
			t.Fatalf("WriteAt: %d %v", n, err)
		}

		type result struct {
			n   int
			err error
		}
		done := make(chan result, 1)
		cb := func(n int, err error) { done <- result{n, err} }
		p := make([]byte, 4096)
		if err := other.Post(func() {
			if err := f.ReadAtOn(other, p, 1000, cb); err != nil {
				done <- result{-1, err}
			}
		}); err != nil {
			t.Fatal(err)
		}
		if r := waitFor(t, done, "ReadAtOn on another loop"); r.n != len(p) || r.err != nil || !equal(p, pattern(1000, len(p))) {
			t.Fatalf("ReadAtOn on another loop: %d %v (content matches: %v)", r.n, r.err, equal(p, pattern(1000, len(p))))
		}
		if err := other.Post(func() {
			if err := f.WriteAtOn(other, pattern(8192, 4096), 8192, cb); err != nil {
				done <- result{-1, err}
			}
		}); err != nil {
			t.Fatal(err)
		}
		if r := waitFor(t, done, "WriteAtOn on another loop"); r.n != 4096 || r.err != nil {
			t.Fatalf("WriteAtOn on another loop: %d %v", r.n, r.err)
		}

		b := NewBatch(other)
		q := make([]byte, 12288)
		b.WriteAt(f, pattern(12288, 4096), 12288)
		b.Link()
		b.Sync(f)
		b.ReadAt(f, q, 0)
		if err := b.Wait(ctxT(t)); err != nil {
			t.Fatalf("batch on another loop: %v", err)
		}
		if !equal(q, pattern(0, len(q))) {
			t.Fatal("batch read on another loop: content differs")
		}
		all := make([]byte, 16384)
		if n, err := f.ReadAt(all, 0); n != len(all) || err != nil || !equal(all, pattern(0, len(all))) {
			t.Fatalf("ReadAt on the home loop: %d %v (content matches: %v)", n, err, equal(all, pattern(0, len(all))))
		}
	})
}

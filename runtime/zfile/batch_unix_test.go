//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package zfile

import (
	"context"
	"errors"
	"io"
	"os"
	"syscall"
	"testing"
	"time"
)

// TestBatchMixed: one batch of reads and writes over two files living on different
// loops; every result is what the File method would have returned, and Next reports
// each op exactly once.
func TestBatchMixed(t *testing.T) {
	forEachDriver(t, 2, func(t *testing.T, e *env) {
		data := writeFile(t, e.path("a"), 64<<10)
		a := mustOpen(t, e, e.path("a"), os.O_RDONLY, OpenOptions{Loop: e.rt.Loops()[0], Fixed: true})
		defer a.Close()
		out := mustOpen(t, e, e.path("b"), os.O_RDWR|os.O_CREATE, OpenOptions{Loop: e.rt.Loops()[1]})
		defer out.Close()
		b := NewBatch(e.rt.Loops()[0])
		var bufs [][]byte
		for i := 0; i < 40; i++ {
			p := make([]byte, 1000+i)
			bufs = append(bufs, p)
			b.ReadAt(a, p, int64(i)*1500)
			b.WriteAt(out, pattern(int64(i), 100), int64(i)*100)
		}
		tail := b.ReadAt(a, make([]byte, 100), 64<<10-40) // short: hits EOF
		empty := b.ReadAt(a, nil, 0)
		if err := b.Submit(ctxT(t)); err != nil {
			t.Fatal(err)
		}
		seen := map[int]bool{}
		for {
			i, err := b.Next(ctxT(t))
			if err == io.EOF {
				break
			}
			if seen[i] {
				t.Fatalf("op %d reported twice", i)
			}
			seen[i] = true
		}
		if len(seen) != b.Len() {
			t.Fatalf("%d of %d ops reported", len(seen), b.Len())
		}
		for i := 0; i < 40; i++ {
			n, err := b.Result(2 * i)
			off := i * 1500
			if n != len(bufs[i]) || err != nil || !equal(bufs[i], data[off:off+len(bufs[i])]) {
				t.Errorf("read %d: %d %v", i, n, err)
			}
			if n, err := b.Result(2*i + 1); n != 100 || err != nil {
				t.Errorf("write %d: %d %v", i, n, err)
			}
		}
		if n, err := b.Result(tail); n != 40 || err != io.EOF {
			t.Errorf("read across EOF: %d %v, want 40 io.EOF", n, err)
		}
		if n, err := b.Result(empty); n != 0 || err != nil {
			t.Errorf("empty read: %d %v", n, err)
		}
		got := make([]byte, 4000)
		if _, err := out.ReadAt(got, 0); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 40; i++ {
			if !equal(got[i*100:i*100+100], pattern(int64(i), 100)) {
				t.Fatalf("write %d landed wrong", i)
			}
		}
	})
}

// TestBatchChains: a write linked to an fsync runs as one chain; a failed or short op
// breaks its chain and the ops after it report ErrLinkBroken.
func TestBatchChains(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, e *env) {
		writeFile(t, e.path("ro"), 100)
		rw := mustOpen(t, e, e.path("rw"), os.O_RDWR|os.O_CREATE, OpenOptions{Fixed: true})
		defer rw.Close()
		ro := mustOpen(t, e, e.path("ro"), os.O_RDONLY, OpenOptions{})
		defer ro.Close()
		b := NewBatch(rw.Loop())
		w := b.WriteAt(rw, []byte("durable"), 0)
		b.Link()
		s := b.Sync(rw)
		bad := b.WriteAt(ro, []byte("x"), 0) // EBADF: read-only
		b.Link()
		after := b.Datasync(ro)
		short := b.ReadAt(ro, make([]byte, 200), 0) // 100 of 200: short, so the chain ends
		b.Link()
		next := b.ReadAt(ro, make([]byte, 10), 0)
		lone := b.ReadAt(ro, make([]byte, 10), 90)
		if err := b.Wait(ctxT(t)); err == nil {
			t.Fatal("Wait: nil error despite failed ops")
		}
		check := func(i, n int, want error) {
			t.Helper()
			gn, err := b.Result(i)
			if gn != n || !errors.Is(err, want) {
				t.Errorf("op %d: %d, %v; want %d, %v", i, gn, err, n, want)
			}
		}
		check(w, 7, nil)
		check(s, 0, nil)
		check(bad, 0, syscall.EBADF)
		check(after, 0, ErrLinkBroken)
		check(short, 100, io.EOF)
		check(next, 0, ErrLinkBroken)
		check(lone, 10, nil)
		if _, err := b.Result(after); !errors.Is(err, syscall.ECANCELED) {
			t.Errorf("ErrLinkBroken does not match ECANCELED: %v", err)
		}
		var pe *os.PathError
		if _, err := b.Result(bad); !errors.As(err, &pe) || pe.Op != "write" {
			t.Errorf("failed write's error: %v", err)
		}
		if err := b.Reset(); err != nil {
			t.Fatal(err)
		}
		b.WriteAt(rw, []byte("x"), 0)
		b.Link()
		if err := b.Submit(ctxT(t)); err == nil {
			t.Error("Submit accepted a batch ending with Link")
		}
	})
}

// TestBatchCancel: a batch op waiting on a FIFO is cancelled when Next's context ends;
// its result carries the context's error, and the batch is reusable.
func TestBatchCancel(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, e *env) {
		f, w := fifo(t, e)
		defer f.Close()
		b := NewBatch(f.Loop())
		b.ReadAt(f, make([]byte, 8), 0)
		if err := b.Submit(ctxT(t)); err != nil {
			t.Fatal(err)
		}
		if err := b.Reset(); err == nil {
			t.Fatal("Reset accepted a batch with ops in flight")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		if i, err := b.Next(ctx); i != 0 || err != nil {
			t.Fatalf("Next: %d %v", i, err)
		}
		if _, err := b.Result(0); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("cancelled read: %v", err)
		}
		if _, err := b.Next(ctx); err != io.EOF {
			t.Fatalf("Next with nothing outstanding: %v", err)
		}
		if err := b.Reset(); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte("ok, kept")); err != nil {
			t.Fatal(err)
		}
		p := make([]byte, 8)
		b.ReadAt(f, p, 0)
		if err := b.Wait(ctxT(t)); err != nil {
			t.Fatalf("Wait: %v", err)
		}
		if n, _ := b.Result(0); string(p[:n]) != "ok, kept" {
			t.Fatalf("read %q", p[:n])
		}
	})
}

// TestBatchFastPath: reads of cached data in a batch complete from the calling
// goroutine without a trip to the loop.
func TestBatchFastPath(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, e *env) {
		data := writeFile(t, e.path("a"), 1<<16)
		f := mustOpen(t, e, e.path("a"), os.O_RDONLY, OpenOptions{})
		defer f.Close()
		b := NewBatch(f.Loop())
		before := f.Loop().Stats().TasksRun
		bufs := make([][]byte, 16)
		for i := range bufs {
			bufs[i] = make([]byte, 4096)
			b.ReadAt(f, bufs[i], int64(i)*4096)
		}
		if err := b.Wait(ctxT(t)); err != nil {
			t.Fatal(err)
		}
		for i := range bufs {
			if !equal(bufs[i], data[i*4096:(i+1)*4096]) {
				t.Fatalf("block %d wrong", i)
			}
		}
		if after := f.Loop().Stats().TasksRun; after != before {
			t.Logf("the loop ran %d tasks (pages evicted meanwhile?)", after-before)
		}
	})
}

//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package zfile

import (
	"context"
	"errors"
	"io"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/zokio/zokio/internal/testkit"
)

// A FIFO opened for reading and writing never blocks at open, and a read of it blocks
// until data arrives: the way to hold an op in flight for as long as a test needs.
// The file skips the fast path, whose preadv2 would refuse ReadAt's offset on a FIFO
// with ESPIPE (as os.File.ReadAt does); the drivers ignore offsets on streams.
func fifo(t *testing.T, e *env) (*File, *os.File) {
	t.Helper()
	name := e.path("fifo")
	if err := syscall.Mkfifo(name, 0o600); err != nil {
		t.Fatal(err)
	}
	f := mustOpen(t, e, name, os.O_RDWR, OpenOptions{NoFastPath: true})
	w, err := os.OpenFile(name, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return f, w
}

type result struct {
	n   int
	err error
}

// TestContextCancelsRead: a read past its deadline is cancelled and loses nothing; the
// bytes written afterwards go to the next read (C3).
func TestContextCancelsRead(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, e *env) {
		f, w := fifo(t, e)
		defer f.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
		defer cancel()
		buf := make([]byte, 16)
		n, err := f.ReadContext(ctx, buf)
		var pe *os.PathError
		if n != 0 || !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &pe) || pe.Op != "read" {
			t.Fatalf("read past its deadline: %d, %v", n, err)
		}
		ctx2, cancel2 := context.WithCancel(context.Background())
		cancel2()
		if _, err := f.ReadAtContext(ctx2, buf, 0); !errors.Is(err, context.Canceled) {
			t.Fatalf("read with a cancelled context: %v", err)
		}
		if _, err := w.Write([]byte("kept")); err != nil {
			t.Fatal(err)
		}
		n, err = f.ReadContext(ctxT(t), buf)
		if err != nil || string(buf[:n]) != "kept" {
			t.Fatalf("read after the cancellation: %q, %v", buf[:n], err)
		}
	})
}

// TestCloseCancelsInFlight: Close with a goroutine read, a loop-level read and a batch
// read in flight cancels all three, each reports os.ErrClosed, and the descriptor is
// released only then (C4).
func TestCloseCancelsInFlight(t *testing.T) {
	forEachDriver(t, 2, func(t *testing.T, e *env) {
		fds := testkit.FDCount(t)
		f, _ := fifo(t, e)
		fds++ // the writer end stays open until the test ends
		goRead := make(chan result, 1)
		go func() {
			n, err := f.Read(make([]byte, 8))
			goRead <- result{n, err}
		}()
		loopRead := make(chan result, 1)
		l := e.rt.Loops()[1] // not the file's home loop: uses the plain descriptor
		if err := l.Call(ctxT(t), func() {
			if err := f.ReadAtOn(l, make([]byte, 8), 0, func(n int, err error) { loopRead <- result{n, err} }); err != nil {
				loopRead <- result{-1, err}
			}
		}); err != nil {
			t.Fatal(err)
		}
		b := NewBatch(f.Loop())
		b.ReadAt(f, make([]byte, 8), 0)
		if err := b.Submit(ctxT(t)); err != nil {
			t.Fatal(err)
		}
		batchDone := make(chan error, 1)
		go func() {
			_, _ = b.Next(context.Background())
			_, err := b.Result(0)
			batchDone <- err
		}()
		waitInFlight(t, f, 3)
		if err := f.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		for what, ch := range map[string]chan result{"goroutine read": goRead, "loop read": loopRead} {
			if r := waitFor(t, ch, what); r.n != 0 || !errors.Is(r.err, os.ErrClosed) {
				t.Errorf("%s after Close: %d, %v", what, r.n, r.err)
			}
		}
		if err := waitFor(t, batchDone, "batch read"); !errors.Is(err, os.ErrClosed) {
			t.Errorf("batch read after Close: %v", err)
		}
		if now := testkit.FDCount(t); now > fds {
			t.Errorf("%d descriptors before, %d after Close", fds, now)
		}
	})
}

// TestCloseRacesReads closes a file while goroutines read it as fast as they can: every
// read returns data or os.ErrClosed, and nothing is left behind.
func TestCloseRacesReads(t *testing.T) {
	forEachDriver(t, 2, func(t *testing.T, e *env) {
		name := e.path("data")
		data := writeFile(t, name, 1<<20)
		for round := 0; round < 20; round++ {
			f := mustOpen(t, e, name, os.O_RDONLY, OpenOptions{NoFastPath: round%2 == 1})
			var wg sync.WaitGroup
			start := make(chan struct{})
			for g := 0; g < 8; g++ {
				wg.Add(1)
				go func(g int) {
					defer wg.Done()
					p := make([]byte, 4096)
					<-start
					for i := 0; ; i++ {
						off := int64((g*131+i*17)%256) * 4096
						n, err := f.ReadAt(p, off)
						if err != nil {
							if !errors.Is(err, os.ErrClosed) {
								t.Errorf("read: %v", err)
							}
							return
						}
						if n != len(p) || !equal(p, data[off:off+4096]) {
							t.Errorf("read at %d: %d bytes, wrong data", off, n)
							return
						}
					}
				}(g)
			}
			close(start)
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			wg.Wait()
		}
	})
}

// TestRuntimeClosedFirst: a file whose runtime closed still gives its descriptor back
// at Close, and its other methods fail with errors matching os.ErrClosed.
func TestRuntimeClosedFirst(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, e *env) {
		name := e.path("data")
		writeFile(t, name, 100)
		fds := testkit.FDCount(t)
		f := mustOpen(t, e, name, os.O_RDWR, OpenOptions{NoFastPath: true})
		if err := e.rt.Close(ctxT(t)); err != nil {
			t.Fatal(err)
		}
		if _, err := f.ReadAt(make([]byte, 10), 0); !errors.Is(err, os.ErrClosed) {
			t.Errorf("read after the runtime closed: %v", err)
		}
		if _, err := f.Write([]byte("x")); !errors.Is(err, os.ErrClosed) {
			t.Errorf("write after the runtime closed: %v", err)
		}
		if err := f.Close(); err != nil {
			t.Errorf("Close after the runtime closed: %v", err)
		}
		if now := testkit.FDCount(t); now > fds {
			t.Errorf("descriptor not released: %d before, %d after", fds, now)
		}
	})
}

// TestEOFOnLoop: the loop-level API reports what ReadAt would, including io.EOF and an
// empty read, from the loop and never inside the call.
func TestEOFOnLoop(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, e *env) {
		name := e.path("data")
		data := writeFile(t, name, 10000)
		f := mustOpen(t, e, name, os.O_RDWR, OpenOptions{Fixed: true})
		defer f.Close()
		l := f.Loop()
		type call struct {
			n   int
			off int64
		}
		for _, c := range []call{{100, 0}, {100, 9950}, {100, 10000}, {0, 5}, {20000, 0}} {
			res := make(chan result, 1)
			inline := true
			if err := l.Call(ctxT(t), func() {
				p := make([]byte, c.n)
				err := f.ReadAtOn(l, p, c.off, func(n int, err error) {
					if inline {
						t.Errorf("callback ran inside ReadAtOn")
					}
					if n > 0 && !equal(p[:n], data[c.off:c.off+int64(n)]) {
						t.Errorf("wrong data at %d", c.off)
					}
					res <- result{n, err}
				})
				inline = false
				if err != nil {
					res <- result{-1, err}
				}
			}); err != nil {
				t.Fatal(err)
			}
			r := waitFor(t, res, "callback")
			wantN, wantErr := f.ReadAt(make([]byte, c.n), c.off)
			if r.n != wantN || r.err != wantErr {
				t.Errorf("ReadAtOn(%d, %d) = %d, %v; ReadAt says %d, %v", c.n, c.off, r.n, r.err, wantN, wantErr)
			}
		}
		res := make(chan result, 1)
		_ = l.Call(ctxT(t), func() {
			if err := f.ReadAtOn(l, nil, -1, func(int, error) {}); err == nil {
				t.Errorf("negative offset accepted")
			}
			if err := f.WriteAtOn(l, []byte("abc"), 3, func(n int, err error) { res <- result{n, err} }); err != nil {
				res <- result{-1, err}
			}
		})
		if r := waitFor(t, res, "write"); r.n != 3 || r.err != nil {
			t.Errorf("WriteAtOn: %d, %v", r.n, r.err)
		}
		if r := io.NewSectionReader(f, 3, 3); r == nil {
			t.Fatal("no section reader")
		}
	})
}

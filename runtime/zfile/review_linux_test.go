package zfile

import (
	"context"
	"errors"
	"io"
	"os"
	"sync"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// TestPositionReadWriteSeek runs Read and Write concurrently on one file: as with
// os.File (the kernel's f_pos_lock), every byte moves the position once.
func TestPositionReadWriteSeek(t *testing.T) {
	const n = 1000
	forEachDriver(t, 1, func(t *testing.T, e *env) {
		name := e.path("pos")
		writeFile(t, name, 2*n)
		f := mustOpen(t, e, name, os.O_RDWR, OpenOptions{})
		defer f.Close()
		var wg sync.WaitGroup
		wg.Add(2)
		go func() {
			defer wg.Done()
			for range n {
				if _, err := f.Write([]byte{'b'}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			b := make([]byte, 1)
			for range n {
				if _, err := f.Read(b); err != nil {
					t.Error(err)
					return
				}
			}
		}()
		wg.Wait()
		if pos, err := f.Seek(0, io.SeekCurrent); err != nil || pos != 2*n {
			t.Fatalf("position %d, %v after %d reads and %d writes of a byte, want %d", pos, err, n, n, 2*n)
		}
	})
}

// TestStreamOffsets: File's positional calls on a FIFO fail with ESPIPE, as os.File's
// do, whether or not the fast path is on; Read, Write and the batch API still work.
func TestStreamOffsets(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, e *env) {
		fifo := e.path("fifo")
		if err := unix.Mkfifo(fifo, 0o600); err != nil {
			t.Fatal(err)
		}
		for _, nf := range []bool{false, true} {
			f := mustOpen(t, e, fifo, os.O_RDWR, OpenOptions{NoFastPath: nf})
			if _, err := f.Write([]byte("hello")); err != nil {
				t.Fatal(err)
			}
			if _, err := f.ReadAt(make([]byte, 5), 100); !errors.Is(err, syscall.ESPIPE) {
				t.Errorf("NoFastPath %v: ReadAt on a FIFO: %v, want ESPIPE", nf, err)
			}
			if _, err := f.WriteAt([]byte("x"), 5); !errors.Is(err, syscall.ESPIPE) {
				t.Errorf("NoFastPath %v: WriteAt on a FIFO: %v, want ESPIPE", nf, err)
			}
			if _, err := f.ReadvAt([][]byte{make([]byte, 2)}, 0); !errors.Is(err, syscall.ESPIPE) {
				t.Errorf("NoFastPath %v: ReadvAt on a FIFO: %v, want ESPIPE", nf, err)
			}
			// The loop-level and batch APIs serve streams: there the offset is
			// ignored, and the bytes come from the stream's head.
			l := f.Loop()
			b := NewBatch(l)
			i := b.ReadAt(f, make([]byte, 2), 1000)
			if err := b.Wait(ctxT(t)); err != nil {
				t.Fatalf("NoFastPath %v: Batch.ReadAt on a FIFO: %v", nf, err)
			}
			if n, err := b.Result(i); n != 2 || err != nil {
				t.Fatalf("NoFastPath %v: Result: %d %v", nf, n, err)
			}
			got := make([]byte, 5)
			if n, err := f.Read(got); err != nil || string(got[:n]) != "llo" {
				t.Fatalf("NoFastPath %v: Read %q, %v", nf, got[:n], err)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// TestBatchAppendAndRefusedSubmit: a batch WriteAt to an O_APPEND file is refused as
// File.WriteAt is; and Wait reports that its Submit sent nothing even while earlier
// ops were outstanding.
func TestBatchAppendAndRefusedSubmit(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, e *env) {
		name := e.path("append")
		writeFile(t, name, 100)
		f := mustOpen(t, e, name, os.O_RDWR|os.O_APPEND, OpenOptions{})
		defer f.Close()
		b := NewBatch(f.Loop())
		i := b.WriteAt(f, []byte("XX"), 0)
		if err := b.Wait(ctxT(t)); !errors.Is(err, errWriteAtInAppendMode) {
			t.Fatalf("Batch.WriteAt in append mode: %v", err)
		}
		if _, err := b.Result(i); !errors.Is(err, errWriteAtInAppendMode) {
			t.Fatalf("Result: %v", err)
		}
		if st, _ := os.Stat(name); st.Size() != 100 {
			t.Fatalf("the file grew to %d bytes", st.Size())
		}

		g := mustOpen(t, e, name, os.O_RDWR, OpenOptions{})
		defer g.Close()
		b = NewBatch(g.Loop())
		b.WriteAt(g, []byte("AA"), 0)
		if err := b.Submit(ctxT(t)); err != nil {
			t.Fatal(err)
		}
		j := b.WriteAt(g, []byte("BB"), 10)
		cancelled, cancel := context.WithCancel(context.Background())
		cancel()
		if err := b.Wait(cancelled); err == nil {
			t.Fatal("Wait returned nil although its Submit sent nothing")
		}
		if _, err := b.Result(j); !errors.Is(err, errNotSent) {
			t.Fatalf("Result of an op never sent: %v", err)
		}
		if _, err := b.Result(99); !errors.Is(err, errNoSuchOp) {
			t.Fatalf("Result(99): %v", err)
		}
	})
}

// TestNilContextAndClosedOrder: a nil context is context.Background (no panic, no
// leak), and a closed file says so before it judges arguments, as os does.
func TestNilContextAndClosedOrder(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, e *env) {
		name := e.path("nilctx")
		writeFile(t, name, 10)
		//lint:ignore SA1012 the nil context is the input under test
		f, err := OpenFile(nil, e.rt, name, os.O_RDWR, 0) //nolint:staticcheck
		if err != nil {
			t.Fatal(err)
		}
		//lint:ignore SA1012 the nil context is the input under test
		a, err := NewArena(nil, f.Loop(), ArenaOptions{Count: 2, Register: RegisterNever}) //nolint:staticcheck
		if err != nil {
			t.Fatal(err)
		}
		a.Close()
		f.Close()
		if err := f.Truncate(-1); !errors.Is(err, os.ErrClosed) {
			t.Fatalf("Truncate(-1) on a closed file: %v, want ErrClosed", err)
		}
		if err := f.Fallocate(0, -1, 0); !errors.Is(err, os.ErrClosed) {
			t.Fatalf("Fallocate with bad arguments on a closed file: %v, want ErrClosed", err)
		}
	})
}

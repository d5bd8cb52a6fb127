package zfile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/zokio/zokio/internal/iouringblock"
	"github.com/zokio/zokio/internal/testkit"
	"github.com/zokio/zokio/runtime"
	"github.com/zokio/zokio/runtime/driver"
)

// TestBatchChainRefused: a chain with an op that cannot start (a negative offset, no
// file, a closed file) is never sent: the failing op reports why, the ops linked to it
// report ErrLinkBroken, and ops before it in the chain release what they took, so
// nothing reaches the file.
func TestBatchChainRefused(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, e *env) {
		name := e.path("chain")
		f := mustOpen(t, e, name, os.O_RDWR|os.O_CREATE, OpenOptions{Fixed: true})
		defer f.Close()
		closed := mustOpen(t, e, e.path("closed"), os.O_RDWR|os.O_CREATE, OpenOptions{})
		closed.Close()
		b := NewBatch(f.Loop())
		if b.Link() {
			t.Fatal("Link with nothing queued reported true")
		}
		// A write linked to a read at a negative offset.
		w1 := b.WriteAt(f, []byte("never"), 0)
		b.Link()
		r1 := b.ReadAt(f, make([]byte, 4), -1)
		// A read at a negative offset linked to a write and a sync.
		r2 := b.ReadAt(f, make([]byte, 4), -1)
		b.Link()
		w2 := b.WriteAt(f, []byte("never"), 10)
		b.Link()
		s2 := b.Sync(f)
		// A write linked to a write on a closed file.
		w3 := b.WriteAt(f, []byte("never"), 20)
		b.Link()
		w4 := b.WriteAt(closed, []byte("never"), 0)
		// A lone op with no file.
		nf := b.WriteAt(nil, []byte("x"), 0)
		if err := b.Wait(ctxT(t)); err == nil {
			t.Fatal("Wait of refused chains returned nil")
		}
		var pe *os.PathError
		for _, i := range []int{r1, r2} {
			if _, err := b.Result(i); !errors.As(err, &pe) || !errors.Is(err, errNegativeOffset) {
				t.Errorf("op %d at a negative offset: %v", i, err)
			}
		}
		for _, i := range []int{w1, w2, s2, w3} {
			if n, err := b.Result(i); n != 0 || !errors.Is(err, ErrLinkBroken) {
				t.Errorf("op %d linked to a refused op: %d, %v; want ErrLinkBroken", i, n, err)
			}
		}
		if _, err := b.Result(w4); !errors.Is(err, os.ErrClosed) {
			t.Errorf("write to a closed file in a chain: %v, want os.ErrClosed", err)
		}
		if _, err := b.Result(nf); err != os.ErrInvalid {
			t.Errorf("write with no file: %v, want os.ErrInvalid unwrapped", err)
		}
		if st, err := os.Stat(name); err != nil || st.Size() != 0 {
			t.Fatalf("the file has %v bytes (%v): a refused chain wrote", st.Size(), err)
		}
		if msg := ErrLinkBroken.Error(); msg == "" {
			t.Error("ErrLinkBroken has no message")
		}
		// The refused ops gave back their references: Close does not wait for them.
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	})
}

// TestBatchStreamRest: a batch read from a FIFO that gets its bytes in two pieces
// sends the rest after the first piece and reports the whole read; one whose rest
// never comes ends with its context, reporting the bytes that did arrive.
func TestBatchStreamRest(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, e *env) {
		name := e.path("fifo")
		if err := unix.Mkfifo(name, 0o600); err != nil {
			t.Skipf("mkfifo: %v", err)
		}
		f := mustOpen(t, e, name, os.O_RDWR, OpenOptions{}) // O_RDWR: the open does not wait for a writer
		defer f.Close()
		w, err := os.OpenFile(name, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()

		b := NewBatch(f.Loop())
		p := make([]byte, 10)
		i := b.ReadAt(f, p, 0)
		if err := b.Submit(ctxT(t)); err != nil {
			t.Fatal(err)
		}
		w.Write([]byte("0123"))
		waitInFlight(t, f, 1) // the rest in flight again (or the first part still)
		w.Write([]byte("456789"))
		if err := b.Wait(ctxT(t)); err != nil {
			t.Fatal(err)
		}
		if n, err := b.Result(i); n != 10 || err != nil || string(p) != "0123456789" {
			t.Fatalf("Result = %d, %v, %q; want the ten bytes", n, err, p)
		}

		if err := b.Reset(); err != nil {
			t.Fatal(err)
		}
		i = b.ReadAt(f, p, 0)
		if err := b.Submit(ctxT(t)); err != nil {
			t.Fatal(err)
		}
		w.Write([]byte("abc"))
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		if err := b.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Wait for a rest that never comes: %v, want context.DeadlineExceeded", err)
		}
		if n, err := b.Result(i); n != 3 || !errors.Is(err, context.DeadlineExceeded) || string(p[:3]) != "abc" {
			t.Fatalf("Result = %d, %v, %q; want the 3 bytes and the context's error", n, err, p[:n])
		}
	})
}

// TestBatchAfterRuntimeClose: a batch submitted to the loop of a closed runtime sends
// nothing and reports every op failed with an error matching os.ErrClosed.
func TestBatchAfterRuntimeClose(t *testing.T) {
	for _, k := range testkit.Drivers(t) {
		t.Run(string(k), func(t *testing.T) {
			rt, err := runtime.New(runtime.Options{Loops: 1, Driver: k})
			if err != nil {
				t.Fatal(err)
			}
			name := filepath.Join(t.TempDir(), "f")
			f, err := OpenFile(ctxT(t), rt, name, os.O_RDWR|os.O_CREATE, 0o644)
			if err != nil {
				t.Fatal(err)
			}
			b := NewBatch(rt.Loops()[0])
			i := b.WriteAt(f, []byte("late"), 0)
			j := b.Sync(f)
			if err := rt.Close(ctxT(t)); err != nil {
				t.Fatal(err)
			}
			if err := b.Wait(ctxT(t)); !errors.Is(err, os.ErrClosed) {
				t.Fatalf("Wait on a closed runtime: %v, want os.ErrClosed", err)
			}
			for _, op := range []int{i, j} {
				if _, err := b.Result(op); !errors.Is(err, os.ErrClosed) {
					t.Errorf("op %d: %v, want os.ErrClosed", op, err)
				}
			}
			f.Close()
			if st, err := os.Stat(name); err != nil || st.Size() != 0 {
				t.Fatalf("size %v (%v): the write ran", st.Size(), err)
			}
		})
	}
}

// TestNilFileLikeOS: every method of a nil *File returns os.ErrInvalid, as a nil
// *os.File's do.
func TestNilFileLikeOS(t *testing.T) {
	var f *File
	var of *os.File
	buf := make([]byte, 4)
	pairs := []struct {
		name     string
		ours, os error
	}{
		{"Read", second(f.Read(buf)), second(of.Read(buf))},
		{"ReadAt", second(f.ReadAt(buf, 0)), second(of.ReadAt(buf, 0))},
		{"Write", second(f.Write(buf)), second(of.Write(buf))},
		{"WriteAt", second(f.WriteAt(buf, 0)), second(of.WriteAt(buf, 0))},
		{"Seek", second(f.Seek(0, io.SeekStart)), second(of.Seek(0, io.SeekStart))},
		{"Stat", second(f.Stat()), second(of.Stat())},
		{"Sync", f.Sync(), of.Sync()},
		{"Close", f.Close(), of.Close()},
		{"ReadvAt", second(f.ReadvAt([][]byte{buf}, 0)), os.ErrInvalid},
		{"WritevAt", second(f.WritevAt([][]byte{buf}, 0)), os.ErrInvalid},
		{"ReadAtOn", f.ReadAtOn(nil, buf, 0, nil), os.ErrInvalid},
	}
	for _, p := range pairs {
		if !errors.Is(p.ours, os.ErrInvalid) || !errors.Is(p.os, os.ErrInvalid) {
			t.Errorf("nil %s: ours %v, os %v; want os.ErrInvalid", p.name, p.ours, p.os)
		}
	}
}

func second[T any](_ T, err error) error { return err }

// TestMisuseLikeOS: bad arguments and closed files fail as os reports them, before
// any op reaches the driver.
func TestMisuseLikeOS(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, e *env) {
		name := e.path("m")
		writeFile(t, name, 10)
		f := mustOpen(t, e, name, os.O_RDWR, OpenOptions{})
		of, err := os.OpenFile(name, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer of.Close()
		if f.Fd() != uintptr(f.fd) || int(f.Fd()) < 0 {
			t.Errorf("Fd = %d", f.Fd())
		}
		// fallocate's own EINVAL for an empty or negative range.
		if err := f.Fallocate(0, 0, 0); !errors.Is(err, syscall.EINVAL) {
			t.Errorf("Fallocate of nothing: %v, want EINVAL", err)
		}
		if err := unix.Fallocate(int(of.Fd()), 0, 0, 0); !errors.Is(err, syscall.EINVAL) {
			t.Errorf("the kernel's fallocate of nothing: %v (the behaviour compared)", err)
		}
		// Vectored ops: a negative offset, an append-mode write, a closed file.
		if _, err := f.ReadvAt([][]byte{make([]byte, 1)}, -1); !errors.Is(err, errNegativeOffset) {
			t.Errorf("ReadvAt at -1: %v", err)
		}
		ap := mustOpen(t, e, name, os.O_RDWR|os.O_APPEND, OpenOptions{})
		if _, err := ap.WritevAt([][]byte{[]byte("x")}, 0); !errors.Is(err, errWriteAtInAppendMode) {
			t.Errorf("WritevAt in append mode: %v", err)
		}
		if err := ap.WriteAtOn(ap.Loop(), []byte("x"), 0, func(int, error) {}); !errors.Is(err, errWriteAtInAppendMode) {
			t.Errorf("WriteAtOn in append mode: %v", err)
		}
		ap.Close()
		// ReadAtOn without a loop or callback, and on a closed file.
		if err := f.ReadAtOn(nil, make([]byte, 1), 0, func(int, error) {}); !errors.Is(err, errNoCallback) {
			t.Errorf("ReadAtOn with no loop: %v", err)
		}
		if err := f.ReadAtOn(f.Loop(), make([]byte, 1), 0, nil); !errors.Is(err, errNoCallback) {
			t.Errorf("ReadAtOn with no callback: %v", err)
		}
		// A context that has ended fails a Read before it starts.
		cancelled, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := f.ReadContext(cancelled, make([]byte, 1)); !errors.Is(err, context.Canceled) {
			t.Errorf("ReadContext with an ended context: %v", err)
		}
		f.Close()
		if err := f.ReadAtOn(f.Loop(), make([]byte, 1), 0, func(int, error) {}); !errors.Is(err, os.ErrClosed) {
			t.Errorf("ReadAtOn on a closed file: %v", err)
		}
		if _, err := f.ReadvAt([][]byte{make([]byte, 1)}, 0); !errors.Is(err, os.ErrClosed) {
			t.Errorf("ReadvAt on a closed file: %v", err)
		}
		if _, err := f.Stat(); !errors.Is(err, os.ErrClosed) {
			t.Errorf("Stat on a closed file: %v", err)
		}
		// Paths with a NUL byte: EINVAL, as os says.
		for _, call := range []struct {
			name      string
			ours, std error
		}{
			{"Remove", Remove(ctxT(t), e.rt, name+"\x00x"), os.Remove(name + "\x00x")},
			{"Mkdir", Mkdir(ctxT(t), e.rt, name+"\x00x", 0o755), os.Mkdir(name+"\x00x", 0o755)},
			{"Rename", Rename(ctxT(t), e.rt, name, name+"\x00x"), os.Rename(name, name+"\x00x")},
		} {
			if !errors.Is(call.ours, syscall.EINVAL) || !errors.Is(call.std, syscall.EINVAL) {
				t.Errorf("%s with a NUL: ours %v, os %v; want EINVAL", call.name, call.ours, call.std)
			}
		}
		// No runtime, and a loop of another runtime.
		if _, err := Stat(ctxT(t), nil, name); !errors.Is(err, errNilRuntime) {
			t.Errorf("Stat with no runtime: %v", err)
		}
		if _, err := OpenFile(ctxT(t), nil, name, os.O_RDONLY, 0); !errors.Is(err, errNilRuntime) {
			t.Errorf("OpenFile with no runtime: %v", err)
		}
		other, err := runtime.New(runtime.Options{Loops: 1, Driver: e.kind})
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close(ctxT(t))
		if _, err := OpenFileWith(ctxT(t), e.rt, name, os.O_RDONLY, 0, OpenOptions{Loop: other.Loops()[0]}); !errors.Is(err, errForeignLoop) {
			t.Errorf("OpenFileWith another runtime's loop: %v", err)
		}
	})
}

// TestVectoredEdges: ReadvAt past a buffer's middle to the end of the file reports
// io.EOF with the bytes read, empty buffers at either end are skipped, and the
// caller's list is left as it was.
func TestVectoredEdges(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, e *env) {
		name := e.path("v")
		data := writeFile(t, name, 10)
		f := mustOpen(t, e, name, os.O_RDWR, OpenOptions{})
		defer f.Close()
		a, b := make([]byte, 8), make([]byte, 8)
		bufs := [][]byte{nil, a, b, {}}
		n, err := f.ReadvAt(bufs, 0)
		if n != 10 || err != io.EOF || !equal(a, data[:8]) || !equal(b[:2], data[8:]) {
			t.Fatalf("ReadvAt past the end = %d, %v", n, err)
		}
		if len(bufs) != 4 || len(bufs[1]) != 8 || len(bufs[2]) != 8 {
			t.Fatal("ReadvAt changed the caller's list")
		}
		if n, err := f.WritevAt([][]byte{{}, []byte("xy"), nil}, 10); n != 2 || err != nil {
			t.Fatalf("WritevAt with empty ends = %d, %v", n, err)
		}
		if st, _ := os.Stat(name); st.Size() != 12 {
			t.Fatalf("size %d after the vectored write, want 12", st.Size())
		}
	})
}

// TestFileModesLikeOS: the mode bits Stat reports for every file type, and for the
// setuid, setgid and sticky bits (set through OpenFile's perm, as os sets them),
// match os.Stat's; ModTime does too.
func TestFileModesLikeOS(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, e *env) {
		paths := []string{"/dev/null", e.dir}
		if fi, err := os.Stat("/dev/vda"); err == nil && fi.Mode()&fs.ModeDevice != 0 && fi.Mode()&fs.ModeCharDevice == 0 {
			paths = append(paths, "/dev/vda") // a block device, where there is one
		} else if ms, _ := filepath.Glob("/dev/loop[0-9]*"); len(ms) > 0 {
			paths = append(paths, ms[0])
		}
		fifo := e.path("fifo")
		if err := unix.Mkfifo(fifo, 0o600); err == nil {
			paths = append(paths, fifo)
		}
		sock := e.path("sock")
		if ln, err := net.Listen("unix", sock); err == nil {
			defer ln.Close()
			paths = append(paths, sock)
		}
		special := e.path("special")
		f, err := OpenFile(ctxT(t), e.rt, special, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o755|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky)
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		std := e.path("special-os")
		of, err := os.OpenFile(std, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o755|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky)
		if err != nil {
			t.Fatal(err)
		}
		of.Close()
		paths = append(paths, special)
		for _, p := range paths {
			ours, err := Stat(ctxT(t), e.rt, p)
			if err != nil {
				t.Fatalf("Stat(%s): %v", p, err)
			}
			want, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if ours.Mode() != want.Mode() || !ours.ModTime().Equal(want.ModTime()) {
				t.Errorf("%s: mode %v, mtime %v; os says %v, %v", p, ours.Mode(), ours.ModTime(), want.Mode(), want.ModTime())
			}
		}
		a, _ := os.Stat(special)
		b, _ := os.Stat(std)
		if a.Mode() != b.Mode() {
			t.Errorf("OpenFile with special bits made %v; os.OpenFile made %v", a.Mode(), b.Mode())
		}
	})
}

// TestVectoredOverMaxRW: a ReadvAt of more than maxRW bytes (one 4 MiB buffer named
// 257 times, from /dev/zero, so nothing is stored) is cut into preadv calls of at most
// maxRW bytes and still fills every buffer.
func TestVectoredOverMaxRW(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, e *env) {
		f, err := Open(ctxT(t), e.rt, "/dev/zero")
		if err != nil {
			t.Skipf("no /dev/zero: %v", err)
		}
		defer f.Close()
		buf := make([]byte, 4<<20)
		bufs := make([][]byte, maxRW/len(buf)+1)
		for i := range bufs {
			bufs[i] = buf
		}
		buf[0], buf[len(buf)-1] = 1, 1
		n, err := f.ReadvAt(bufs, 0)
		if n != len(bufs)*len(buf) || err != nil {
			t.Fatalf("ReadvAt of %d bytes = %d, %v", len(bufs)*len(buf), n, err)
		}
		if buf[0] != 0 || buf[len(buf)-1] != 0 {
			t.Fatal("the buffer was not filled from /dev/zero")
		}
	})
}

// TestReadDirectoryLikeOS: reading a directory fails with EISDIR through every read
// path (ReadAt, Read, ReadAtOn, a Batch read), as os.File's reads do.
func TestReadDirectoryLikeOS(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, e *env) {
		d, err := Open(ctxT(t), e.rt, e.dir)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		od, err := os.Open(e.dir)
		if err != nil {
			t.Fatal(err)
		}
		defer od.Close()
		p := make([]byte, 16)
		done := make(chan error, 1)
		started := make(chan error, 1)
		d.Loop().Post(func() { // ReadAtOn runs on the loop
			started <- d.ReadAtOn(d.Loop(), make([]byte, 16), 0, func(_ int, err error) { done <- err })
		})
		if err := waitFor(t, started, "ReadAtOn"); err != nil {
			t.Fatal(err)
		}
		b := NewBatch(d.Loop())
		bi := b.ReadAt(d, p, 0)
		b.Wait(ctxT(t))
		calls := map[string][2]error{
			"ReadAt":   {second(d.ReadAt(p, 0)), second(od.ReadAt(p, 0))},
			"Read":     {second(d.Read(p)), second(od.Read(p))},
			"ReadAtOn": {waitFor(t, done, "ReadAtOn's callback"), syscall.EISDIR},
			"Batch":    {second(b.Result(bi)), syscall.EISDIR},
		}
		for name, errs := range calls {
			var pe *os.PathError
			if !errors.Is(errs[0], syscall.EISDIR) || !errors.As(errs[0], &pe) || !errors.Is(errs[1], syscall.EISDIR) {
				t.Errorf("%s of a directory: ours %v, os %v; want EISDIR in a *os.PathError", name, errs[0], errs[1])
			}
		}
	})
}

// TestWriteBehindErrors: WriteBehind stops at the first failed write (a read-only
// file: EBADF, as os.File.Write says) and at an ended context, leaving no op in
// flight (Close then returns at once).
func TestWriteBehindErrors(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, e *env) {
		name := e.path("ro")
		writeFile(t, name, 0)
		ro := mustOpen(t, e, name, os.O_RDONLY, OpenOptions{})
		defer ro.Close()
		fill := func(i int, b []byte) { b[0] = byte(i) }
		if err := WriteBehind(ctxT(t), ro, 4, 4096, 1, 100, fill); !errors.Is(err, syscall.EBADF) {
			t.Errorf("WriteBehind to a read-only file: %v, want EBADF", err)
		}
		of, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		defer of.Close()
		if _, err := of.Write([]byte("x")); !errors.Is(err, syscall.EBADF) {
			t.Errorf("os.File.Write to a read-only file: %v (the behaviour compared)", err)
		}
		rw := mustOpen(t, e, e.path("rw"), os.O_RDWR|os.O_CREATE, OpenOptions{})
		cancelled, cancel := context.WithCancel(context.Background())
		cancel()
		if err := WriteBehind(cancelled, rw, 4, 4096, 2, 2, fill); !errors.Is(err, context.Canceled) {
			t.Errorf("WriteBehind with an ended context: %v, want context.Canceled", err)
		}
		if err := rw.Close(); err != nil {
			t.Fatal(err)
		}
	})
}

// TestRuntimeCloseUnderFileOps: closing the runtime under a Batch read, a ReadAtOn
// and a Read that wait on a FIFO ends each with an error matching os.ErrClosed (the
// runtime's, not the file's: the files are still open).
func TestRuntimeCloseUnderFileOps(t *testing.T) {
	for _, k := range testkit.Drivers(t) {
		t.Run(string(k), func(t *testing.T) {
			rt, err := runtime.New(runtime.Options{Loops: 1, Driver: k})
			if err != nil {
				t.Fatal(err)
			}
			name := filepath.Join(t.TempDir(), "fifo")
			if err := unix.Mkfifo(name, 0o600); err != nil {
				t.Skipf("mkfifo: %v", err)
			}
			f, err := OpenFile(ctxT(t), rt, name, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			b := NewBatch(f.Loop())
			i := b.ReadAt(f, make([]byte, 8), 0)
			if err := b.Submit(ctxT(t)); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			onLoop := make(chan error, 1)
			f.Loop().Post(func() {
				onLoop <- f.ReadAtOn(f.Loop(), make([]byte, 8), 0, func(_ int, err error) { done <- err })
			})
			if err := waitFor(t, onLoop, "ReadAtOn"); err != nil {
				t.Fatal(err)
			}
			g, err := OpenFile(ctxT(t), rt, name, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			read := make(chan error, 1)
			go func() { _, err := g.Read(make([]byte, 8)); read <- err }()
			waitInFlight(t, f, 2)
			waitInFlight(t, g, 1)
			if err := rt.Close(ctxT(t)); err != nil {
				t.Fatal(err)
			}
			if err := waitFor(t, read, "the blocked Read"); !errors.Is(err, os.ErrClosed) {
				t.Errorf("a Read blocked when the runtime closed: %v, want os.ErrClosed", err)
			}
			g.Close()
			if err := waitFor(t, done, "ReadAtOn's callback"); !errors.Is(err, os.ErrClosed) {
				t.Errorf("ReadAtOn when the runtime closed: %v, want os.ErrClosed", err)
			}
			if err := b.Wait(ctxT(t)); !errors.Is(err, os.ErrClosed) {
				t.Errorf("Batch.Wait when the runtime closed: %v, want os.ErrClosed", err)
			}
			if _, err := b.Result(i); !errors.Is(err, os.ErrClosed) {
				t.Errorf("the batch read when the runtime closed: %v, want os.ErrClosed", err)
			}
			f.Close()
		})
	}
}

// TestBatchLinkedShortWrite: a linked write to a FIFO that takes only part of it is
// reported as it is (the chain is the kernel's: nothing sends the rest), with
// io.ErrShortWrite, and the op linked to it with ErrLinkBroken; the reader gets exactly
// the bytes reported. A driver whose write waits for the whole of it reports success.
func TestBatchLinkedShortWrite(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, e *env) {
		name := e.path("fifo")
		if err := unix.Mkfifo(name, 0o600); err != nil {
			t.Skipf("mkfifo: %v", err)
		}
		r, err := os.OpenFile(name, os.O_RDWR, 0) // the reader; O_RDWR: no wait for a writer
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		w := mustOpen(t, e, name, os.O_WRONLY, OpenOptions{})
		defer w.Close()
		p := make([]byte, 4<<20) // more than a pipe holds
		b := NewBatch(w.Loop())
		wi := b.WriteAt(w, p, 0)
		b.Link()
		si := b.Sync(w)
		if err := b.Submit(ctxT(t)); err != nil {
			t.Fatal(err)
		}
		got := make(chan int, 1)
		go func() {
			n, _ := io.Copy(io.Discard, io.LimitReader(r, int64(len(p))))
			got <- int(n)
		}()
		if err := b.Wait(ctxT(t)); err == nil {
			// The whole write went through: the reader has all of it.
			t.Logf("%s: the linked write went through whole", e.kind)
			if n := waitFor(t, got, "the reader"); n != len(p) {
				t.Fatalf("Wait succeeded, the reader got %d of %d bytes", n, len(p))
			}
			return
		}
		n, err := b.Result(wi)
		t.Logf("%s: the linked write was short: %d of %d bytes", e.kind, n, len(p))
		if n <= 0 || n >= len(p) || !errors.Is(err, io.ErrShortWrite) {
			t.Fatalf("the short linked write: %d, %v; want 0 < n < %d with io.ErrShortWrite", n, err, len(p))
		}
		if _, err := b.Result(si); !errors.Is(err, ErrLinkBroken) {
			t.Errorf("the sync linked to the short write: %v, want ErrLinkBroken", err)
		}
		r.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		if m := waitFor(t, got, "the reader"); m != n {
			t.Errorf("the reader got %d bytes, the write reported %d", m, n)
		}
	})
}

// TestAlignedBuffer: AlignedBuffer returns a buffer of the size asked for whose start
// is a multiple of the alignment, and nil for an alignment that is not a power of two
// or a negative size.
func TestAlignedBuffer(t *testing.T) {
	for _, align := range []int{1, 512, 4096, 1 << 20} {
		b := AlignedBuffer(3000, align)
		if len(b) != 3000 || uintptr(unsafe.Pointer(unsafe.SliceData(b)))%uintptr(align) != 0 {
			t.Errorf("AlignedBuffer(3000, %d): len %d at %p", align, len(b), unsafe.SliceData(b))
		}
	}
	for _, bad := range [][2]int{{10, 3}, {10, 0}, {10, -8}, {-1, 8}} {
		if b := AlignedBuffer(bad[0], bad[1]); b != nil {
			t.Errorf("AlignedBuffer(%d, %d) = %d bytes, want nil", bad[0], bad[1], len(b))
		}
	}
}

// TestRenameOntoDirLikeOS: renaming a missing file onto a directory fails with
// ENOENT in an *os.LinkError, as os.Rename does.
func TestRenameOntoDirLikeOS(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, e *env) {
		dir := e.path("dir")
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		ours := Rename(ctxT(t), e.rt, e.path("missing"), dir)
		std := os.Rename(e.path("missing"), dir)
		var le *os.LinkError
		if !errors.As(ours, &le) || !errors.Is(ours, syscall.ENOENT) || !errors.Is(std, syscall.ENOENT) {
			t.Errorf("Rename of a missing file onto a directory: ours %v, os %v; want ENOENT", ours, std)
		}
	})
}

// TestBatchChainEmptyWrite: an empty write in a chain is a no-op that succeeds, so the
// op linked to it runs.
func TestBatchChainEmptyWrite(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, e *env) {
		f := mustOpen(t, e, e.path("e"), os.O_RDWR|os.O_CREATE, OpenOptions{})
		defer f.Close()
		b := NewBatch(f.Loop())
		w := b.WriteAt(f, nil, 0)
		b.Link()
		s := b.Sync(f)
		b.Link()
		w2 := b.WriteAt(f, []byte("after"), 0)
		if err := b.Wait(ctxT(t)); err != nil {
			t.Fatal(err)
		}
		for _, i := range []int{w, s} {
			if n, err := b.Result(i); n != 0 || err != nil {
				t.Errorf("op %d: %d, %v; want 0, nil", i, n, err)
			}
		}
		if n, err := b.Result(w2); n != 5 || err != nil {
			t.Errorf("the write linked after them: %d, %v", n, err)
		}
		if got, _ := os.ReadFile(e.path("e")); string(got) != "after" {
			t.Errorf("file holds %q", got)
		}
	})
}

// TestWriteBehindSyncRefused: WriteBehind to a FIFO (whose reader takes every byte)
// writes each chunk, then fails with the fsync's EINVAL, as os.File.Sync of a FIFO
// fails.
func TestWriteBehindSyncRefused(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, e *env) {
		name := e.path("fifo")
		if err := unix.Mkfifo(name, 0o600); err != nil {
			t.Skipf("mkfifo: %v", err)
		}
		r, err := os.OpenFile(name, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		got := make(chan int64, 1)
		go func() {
			n, _ := io.Copy(io.Discard, io.LimitReader(r, 4*4096))
			got <- n
		}()
		w := mustOpen(t, e, name, os.O_WRONLY, OpenOptions{})
		defer w.Close()
		err = WriteBehind(ctxT(t), w, 4, 4096, 2, 2, func(i int, b []byte) { b[0] = byte(i) })
		if !errors.Is(err, syscall.EINVAL) {
			t.Errorf("WriteBehind to a FIFO: %v, want the fsync's EINVAL", err)
		}
		if err := r.Sync(); !errors.Is(err, syscall.EINVAL) {
			t.Errorf("os.File.Sync of a FIFO: %v (the behaviour compared)", err)
		}
		if n := waitFor(t, got, "the FIFO's reader"); n != 4*4096 {
			t.Errorf("the reader got %d bytes, want every chunk's %d", n, 4*4096)
		}
	})
}

// TestColdReadFastPath: a read whose data is not in the page cache (evicted with
// POSIX_FADV_DONTNEED) finds the fast path refused (preadv2's EAGAIN under
// RWF_NOWAIT) and reads through the driver: the bytes are the file's.
func TestColdReadFastPath(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, e *env) {
		name := e.path("cold")
		data := writeFile(t, name, 256<<10)
		f := mustOpen(t, e, name, os.O_RDONLY, OpenOptions{})
		defer f.Close()
		if err := unix.Fdatasync(int(f.Fd())); err != nil {
			t.Fatal(err)
		}
		if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
			t.Skipf("fadvise: %v", err)
		}
		p := make([]byte, len(data))
		if n, err := f.ReadAt(p, 0); n != len(p) || err != nil || !equal(p, data) {
			t.Fatalf("cold ReadAt = %d, %v (equal %v)", n, err, equal(p, data))
		}
	})
}

// childCoverEnv hands a child scenario the coverage directory of a -cover run: the
// child leaves TestMain through os.Exit, before any flag is parsed, so it takes the
// directory from GOCOVERDIR, which a coverage build reads at exit.
func childCoverEnv() []string {
	for _, a := range iouringblock.CoverArgs() {
		if dir, ok := strings.CutPrefix(a, "-test.gocoverdir="); ok {
			return []string{"GOCOVERDIR=" + dir}
		}
	}
	return nil
}

// TestFixedTableUnavailable: with RLIMIT_NOFILE below the registered table's size
// (the kernel then refuses to register it, EMFILE), a file opened with Fixed keeps its
// plain descriptor (File.Fixed says so) and reads and writes as usual.
func TestFixedTableUnavailable(t *testing.T) { runChild(t, "nofile", nil) }

func childNofile() error {
	if _, err := driver.Choose(driver.Uring); err != nil {
		return skipError("no io_uring: " + err.Error())
	}
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &unix.Rlimit{Cur: fixedSlots / 2, Max: fixedSlots / 2}); err != nil {
		return err
	}
	rt, err := runtime.New(runtime.Options{Loops: 1, Driver: driver.Uring})
	if err != nil {
		return err
	}
	defer rt.Close(context.Background())
	dir, err := os.MkdirTemp("", "zfile-nofile")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	f, err := OpenFileWith(context.Background(), rt, filepath.Join(dir, "f"), os.O_RDWR|os.O_CREATE, 0o644, OpenOptions{Fixed: true})
	if err != nil {
		return err
	}
	defer f.Close()
	if f.Fixed() {
		return errors.New("a file got a registered slot though the table cannot be registered")
	}
	if _, err := f.WriteAt([]byte("plain"), 0); err != nil {
		return err
	}
	p := make([]byte, 5)
	if n, err := f.ReadAt(p, 0); n != 5 || err != nil || string(p) != "plain" {
		return fmt.Errorf("ReadAt = %d, %v, %q", n, err, p)
	}
	return nil
}

// TestReadWriteOnlyLikeOS: reading a file opened write-only fails with EBADF through
// ReadAt and ReadAtOn (whose inline page-cache attempt on epoll meets the error
// first), as os.File.ReadAt fails.
func TestReadWriteOnlyLikeOS(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, e *env) {
		name := e.path("wo")
		writeFile(t, name, 64)
		f := mustOpen(t, e, name, os.O_WRONLY, OpenOptions{})
		defer f.Close()
		of, err := os.OpenFile(name, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer of.Close()
		done := make(chan error, 1)
		started := make(chan error, 1)
		f.Loop().Post(func() {
			started <- f.ReadAtOn(f.Loop(), make([]byte, 16), 0, func(_ int, err error) { done <- err })
		})
		if err := waitFor(t, started, "ReadAtOn"); err != nil {
			t.Fatal(err)
		}
		p := make([]byte, 16)
		for name, errs := range map[string][2]error{
			"ReadAt":   {second(f.ReadAt(p, 0)), second(of.ReadAt(p, 0))},
			"ReadAtOn": {waitFor(t, done, "ReadAtOn's callback"), syscall.EBADF},
		} {
			if !errors.Is(errs[0], syscall.EBADF) || !errors.Is(errs[1], syscall.EBADF) {
				t.Errorf("%s of a write-only file: ours %v, os %v; want EBADF", name, errs[0], errs[1])
			}
		}
	})
}

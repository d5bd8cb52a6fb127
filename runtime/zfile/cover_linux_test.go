package zfile

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/zokio/zokio/internal/testkit"
	"github.com/zokio/zokio/runtime"
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

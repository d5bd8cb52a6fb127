package zfile

import (
	"context"
	"errors"
	"os"
	"syscall"
	"testing"

	"github.com/zokio/zokio/poller"
)

// TestDirectIO: O_DIRECT writes and reads with aligned heap buffers and with arena
// buffers (registered on io_uring), checked against the data; a misaligned O_DIRECT
// write is either refused or, as on this project's ext4, done buffered.
func TestDirectIO(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, e *env) {
		name := e.path("direct")
		f := mustOpen(t, e, name, os.O_RDWR|os.O_CREATE|syscall.O_DIRECT, OpenOptions{Fixed: true})
		defer f.Close()
		if !f.noFast.Load() {
			t.Fatal("an O_DIRECT file tries the page-cache fast path")
		}
		arena, err := NewArena(ctxT(t), f.Loop(), ArenaOptions{BufSize: 16 << 10, Count: 4})
		if err != nil {
			t.Fatal(err)
		}
		defer arena.Close()
		if arena.Registered() != e.uring() {
			t.Fatalf("arena registered: %v on %s (%v)", arena.Registered(), e.kind, arena.RegisterErr())
		}
		heap := AlignedBuffer(64<<10, 4096)
		fillPattern(heap, 0)
		if n, err := f.WriteAt(heap, 0); n != len(heap) || err != nil {
			t.Fatalf("aligned write: %d %v", n, err)
		}
		ab := arena.Get()
		fillPattern(ab, 64<<10)
		if n, err := f.WriteAt(ab, 64<<10); n != len(ab) || err != nil {
			t.Fatalf("arena write: %d %v", n, err)
		}
		want := pattern(0, 80<<10)
		got := AlignedBuffer(80<<10, 512)
		if n, err := f.ReadAt(got, 0); n != len(got) || err != nil || !equal(got, want) {
			t.Fatalf("aligned read: %d %v", n, err)
		}
		clear(ab)
		if n, err := f.ReadAt(ab, 16<<10); n != len(ab) || err != nil || !equal(ab, want[16<<10:32<<10]) {
			t.Fatalf("arena read: %d %v", n, err)
		}
		if err := arena.Put(ab); err != nil {
			t.Fatal(err)
		}
		odd := AlignedBuffer(4097, 4096)[1:]
		if n, err := f.WriteAt(odd, 4096); err != nil && !errors.Is(err, syscall.EINVAL) {
			t.Fatalf("misaligned direct write: %d %v", n, err)
		}
		if fi, err := f.Stat(); err != nil || fi.Size() != 80<<10 {
			t.Fatalf("stat: %v %v", fi, err)
		}
		// The descriptor ops on a registered file go through its slot.
		if err := f.Sync(); err != nil {
			t.Fatal(err)
		}
		if err := f.Datasync(); err != nil {
			t.Fatal(err)
		}
		if err := f.Allocate(0, 128<<10); err != nil {
			t.Fatal(err)
		}
		if err := f.Truncate(96 << 10); err != nil {
			t.Fatal(err)
		}
		if fi, err := f.Stat(); err != nil || fi.Size() != 96<<10 {
			t.Fatalf("stat after allocate and truncate: %v %v", fi, err)
		}
	})
}

// TestRegisteredFiles: fixed files get slots in their home loop's table (io_uring) or
// stay plain (epoll); closed files give their slots back for reuse.
func TestRegisteredFiles(t *testing.T) {
	forEachDriver(t, 2, func(t *testing.T, e *env) {
		name := e.path("data")
		data := writeFile(t, name, 4096)
		l := e.rt.Loops()[1]
		var files []*File
		slots := map[int32]bool{}
		for i := 0; i < 8; i++ {
			f := mustOpen(t, e, name, os.O_RDONLY, OpenOptions{Fixed: true, Loop: l, NoFastPath: true})
			if f.Fixed() != e.uring() {
				t.Fatalf("Fixed() = %v on %s", f.Fixed(), e.kind)
			}
			slots[f.fixed] = true
			files = append(files, f)
		}
		if e.uring() && len(slots) != 8 {
			t.Fatalf("8 files share %d slots", len(slots))
		}
		for _, f := range files {
			p := make([]byte, 4096)
			if n, err := f.ReadAt(p, 0); n != 4096 || err != nil || !equal(p, data) {
				t.Fatalf("read through slot %d: %d %v", f.fixed, n, err)
			}
			op := poller.Op{Code: poller.OpRead, Fd: f.fd, Buf: p}
			f.useRegistered(&op, l)
			if (op.Flags&poller.FlagFixedFile != 0) != e.uring() || (e.uring() && op.Fd != int(f.fixed)) {
				t.Fatalf("op on the home loop: flags %v fd %d", op.Flags, op.Fd)
			}
			op = poller.Op{Code: poller.OpRead, Fd: f.fd, Buf: p}
			f.useRegistered(&op, e.rt.Loops()[0])
			if op.Flags&poller.FlagFixedFile != 0 {
				t.Fatal("an op on another loop uses the home loop's slot")
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
		}
		f := mustOpen(t, e, name, os.O_RDONLY, OpenOptions{Fixed: true, Loop: l})
		defer f.Close()
		if e.uring() && !slots[f.fixed] {
			t.Fatalf("new file got slot %d, not a reused one", f.fixed)
		}
	})
}

// TestTwoArenasOneLoop: two arenas registered on one loop at once (io_uring) take
// distinct slots of its buffer table; reads and writes through both carry their own
// index and move the right bytes; a closed arena's slot goes to the next arena. On
// epoll both work unregistered and say why.
func TestTwoArenasOneLoop(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, e *env) {
		f := mustOpen(t, e, e.path("two"), os.O_RDWR|os.O_CREATE, OpenOptions{NoFastPath: true, Fixed: true})
		defer f.Close()
		l := f.Loop()
		newArena := func() *Arena {
			t.Helper()
			a, err := NewArena(ctxT(t), l, ArenaOptions{BufSize: 8192, Count: 4})
			if err != nil {
				t.Fatal(err)
			}
			if a.Registered() != e.uring() {
				t.Fatalf("arena registered %v on %s: %v", a.Registered(), e.kind, a.RegisterErr())
			}
			if !e.uring() && !errors.Is(a.RegisterErr(), errors.ErrUnsupported) {
				t.Fatalf("unregistered arena on %s: RegisterErr %v, want ErrUnsupported", e.kind, a.RegisterErr())
			}
			return a
		}
		// index returns the registered index of b, checking that an op on b gets it.
		index := func(b []byte) uint16 {
			t.Helper()
			idx, ok := l.RegisteredBuffer(b)
			op := poller.Op{Code: poller.OpRead, Buf: b}
			f.useRegistered(&op, l)
			if ok != e.uring() || (op.Flags&poller.FlagFixedBuffer != 0) != ok || op.BufIndex != idx {
				t.Fatalf("lookup %d %v, op flags %v index %d on %s", idx, ok, op.Flags, op.BufIndex, e.kind)
			}
			return idx
		}
		// through writes src at off and reads it back into dst, from another arena.
		through := func(src, dst []byte, off int64) {
			t.Helper()
			fillPattern(src, off)
			if n, err := f.WriteAt(src, off); n != len(src) || err != nil {
				t.Fatalf("write at %d: %d %v", off, n, err)
			}
			clear(dst)
			if n, err := f.ReadAt(dst, off); n != len(dst) || err != nil || !equal(dst, src) {
				t.Fatalf("read at %d: %d %v, data equal %v", off, n, err, equal(dst, src))
			}
		}
		a, b := newArena(), newArena()
		defer b.Close()
		ab, bb := a.Get(), b.Get()
		ia, ib := index(ab), index(bb)
		if e.uring() && ia == ib {
			t.Fatalf("two arenas share slot %d", ia)
		}
		for i := int64(0); i < 8; i++ {
			through(ab, bb, i*8192)
			through(bb, ab, i*8192+4096)
		}
		// Part of a buffer keeps the arena's index.
		if idx := index(ab[100:200]); idx != ia {
			t.Fatalf("part of a buffer: index %d, want %d", idx, ia)
		}
		if err := a.Put(ab); err != nil {
			t.Fatal(err)
		}
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
		if _, ok := l.RegisteredBuffer(ab); ok {
			t.Fatal("a closed arena's memory still counts as registered")
		}
		c := newArena()
		defer c.Close()
		cb := c.Get()
		defer c.Put(cb)
		if ic := index(cb); ic != ia {
			t.Fatalf("new arena got slot %d, not the closed one's %d", ic, ia)
		}
		through(cb, bb, 1<<20)
		through(bb, cb, 2<<20)
		if err := b.Put(bb); err != nil {
			t.Fatal(err)
		}
	})
}

// TestRegisteredBuffersReadWrite: reads and writes through a registered arena on the
// file's loop carry FlagFixedBuffer and move the right bytes.
func TestRegisteredBuffersReadWrite(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, e *env) {
		f := mustOpen(t, e, e.path("rw"), os.O_RDWR|os.O_CREATE, OpenOptions{NoFastPath: true})
		defer f.Close()
		a, err := NewArena(ctxT(t), f.Loop(), ArenaOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		w, r := a.Get(), a.Get()
		defer a.Put(w)
		defer a.Put(r)
		fillPattern(w, 7)
		op := poller.Op{Code: poller.OpWrite, Buf: w}
		f.useRegistered(&op, f.Loop())
		if (op.Flags&poller.FlagFixedBuffer != 0) != e.uring() {
			t.Fatalf("flags %v on %s", op.Flags, e.kind)
		}
		for i := int64(0); i < 16; i++ {
			if n, err := f.WriteAt(w, i*4096); n != 4096 || err != nil {
				t.Fatal(n, err)
			}
			if n, err := f.ReadAt(r, i*4096); n != 4096 || err != nil || !equal(r, w) {
				t.Fatal(n, err)
			}
		}
		done := make(chan result, 1)
		_ = f.Loop().Call(context.Background(), func() {
			if err := f.ReadAtOn(f.Loop(), r, 4096, func(n int, err error) { done <- result{n, err} }); err != nil {
				done <- result{-1, err}
			}
		})
		if res := waitFor(t, done, "loop read"); res.n != 4096 || res.err != nil || !equal(r, w) {
			t.Fatalf("loop read into the arena: %d %v", res.n, res.err)
		}
	})
}

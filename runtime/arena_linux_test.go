package runtime

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"github.com/zokio/zokio/internal/testkit"
	"github.com/zokio/zokio/numa"
	"github.com/zokio/zokio/poller"
	"github.com/zokio/zokio/runtime/driver"
	"github.com/zokio/zokio/sqpoll"
)

func newTestArena(t *testing.T, l *Loop, o ArenaOptions) *Arena {
	t.Helper()
	a, err := NewArena(context.Background(), l, o)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestArenaBuffers: options are checked, buffers are aligned and distinct, bad
// returns are refused, Close waits for every buffer, and registration follows the
// driver and the mode, with the lookup agreeing.
func TestArenaBuffers(t *testing.T) {
	forEachDriver(t, 2, func(t *testing.T, rt *Runtime) {
		uring := rt.Driver().Kind == driver.Uring
		l := rt.Loops()[0]
		for _, o := range []ArenaOptions{{BufSize: 1000}, {Align: 3}, {Align: 2 * os.Getpagesize()},
			{Count: -1}, {BufSize: 1 << 20, Count: 2048}} {
			if a, err := NewArena(context.Background(), l, o); err == nil {
				a.Close()
				t.Fatalf("bad options %+v accepted", o)
			}
		}
		if _, err := NewArena(context.Background(), nil, ArenaOptions{}); err == nil {
			t.Fatal("nil loop accepted")
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := NewArena(ctx, l, ArenaOptions{}); !errors.Is(err, context.Canceled) {
			t.Fatalf("ended context: %v", err)
		}
		a := newTestArena(t, l, ArenaOptions{BufSize: 8192, Count: 3, Align: 512})
		if a.Registered() != uring || a.Loop() != l || a.BufSize() != 8192 {
			t.Fatalf("registered %v (%v), loop %v, size %d", a.Registered(), a.RegisterErr(), a.Loop() == l, a.BufSize())
		}
		var bufs [][]byte
		for b := a.Get(); b != nil; b = a.Get() {
			if len(b) != 8192 || cap(b) != 8192 || addrOf(b)%512 != 0 {
				t.Fatalf("buffer %d: len %d cap %d addr %#x", len(bufs), len(b), cap(b), addrOf(b))
			}
			bufs = append(bufs, b)
		}
		if len(bufs) != 3 {
			t.Fatalf("%d buffers from an arena of 3", len(bufs))
		}
		if _, ok := l.RegisteredBuffer(bufs[1][100:200]); ok != uring {
			t.Fatalf("lookup of an arena buffer: %v", ok)
		}
		if _, ok := rt.Loops()[1].RegisteredBuffer(bufs[1]); ok {
			t.Fatal("another loop finds the arena")
		}
		if _, ok := l.RegisteredBuffer(make([]byte, 10)); ok {
			t.Fatal("a heap buffer counts as registered")
		}
		if _, ok := l.RegisteredBuffer(bufs[2][:0]); ok {
			t.Fatal("an empty buffer counts as registered")
		}
		if err := a.Close(); err == nil {
			t.Fatal("Close with buffers out succeeded")
		}
		for _, bad := range [][]byte{bufs[0][1:], make([]byte, 10), nil} {
			if err := a.Put(bad); err == nil {
				t.Fatal("Put of a foreign buffer or a buffer's middle accepted")
			}
		}
		for _, b := range bufs {
			if err := a.Put(b); err != nil {
				t.Fatal(err)
			}
		}
		if err := a.Put(bufs[0]); err == nil {
			t.Fatal("double Put accepted")
		}
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
		if err := a.Close(); !errors.Is(err, os.ErrClosed) {
			t.Fatalf("second Close: %v", err)
		}
		if a.Get() != nil || a.Registered() {
			t.Fatal("a closed arena hands out buffers or reads as registered")
		}
		if _, ok := l.RegisteredBuffer(bufs[1]); ok {
			t.Fatal("closed arena still registered")
		}
		never := newTestArena(t, l, ArenaOptions{Register: RegisterNever})
		defer never.Close()
		if never.Registered() || never.RegisterErr() != nil {
			t.Fatalf("RegisterNever: registered %v, %v", never.Registered(), never.RegisterErr())
		}
	})
}

// TestArenaOnEpoll: epoll has no registered buffers. RegisterAuto works unregistered
// and RegisterErr says why; RegisterRequire fails with errors.ErrUnsupported.
func TestArenaOnEpoll(t *testing.T) {
	rt := newRuntime(t, Options{Loops: 1, Driver: driver.Epoll})
	l := rt.Loops()[0]
	a := newTestArena(t, l, ArenaOptions{})
	defer a.Close()
	if err := a.RegisterErr(); a.Registered() || !errors.Is(err, errors.ErrUnsupported) ||
		!strings.Contains(err.Error(), "io_uring") {
		t.Fatalf("arena on epoll: registered %v, RegisterErr %v", a.Registered(), err)
	}
	b := a.Get()
	defer a.Put(b)
	if _, ok := l.RegisteredBuffer(b); ok {
		t.Fatal("an unregistered arena's buffer counts as registered")
	}
	if _, err := NewArena(context.Background(), l, ArenaOptions{Register: RegisterRequire}); !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("RegisterRequire on epoll: %v, want ErrUnsupported", err)
	}
}

// TestArenasShareTable: several arenas registered on one ring at once take distinct
// slots of its table; READ_FIXED and WRITE_FIXED through each move the right bytes;
// a closed arena's slot goes to the next arena and the others keep working. Rings
// with an SQ thread register the same way.
func TestArenasShareTable(t *testing.T) {
	testkit.SkipUnderFaults(t, "checks the exact count of raw fixed-buffer reads and writes, which a short count (allowed by the contract) changes")
	if !slices.Contains(testkit.Drivers(t), driver.Uring) {
		t.Skip("registered buffers are io_uring's")
	}
	for _, m := range []sqpoll.Mode{sqpoll.Off, sqpoll.PerRing} {
		t.Run(m.String(), func(t *testing.T) {
			rt := newRuntime(t, Options{Loops: 1, Driver: driver.Uring, SQPoll: sqpoll.Config{Mode: m}})
			if got := rt.SQPoll().Mode; got != m {
				t.Skipf("asked for %v, rings run %v: %s", m, got, rt.SQPoll().Reason)
			}
			arenasShareTable(t, rt.Loops()[0])
		})
	}
}

func arenasShareTable(t *testing.T, l *Loop) {
	f, err := os.CreateTemp(t.TempDir(), "arena")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fd := int(f.Fd())
	// fixed runs a read or write of b at off as a fixed-buffer op, checking the index.
	fixed := func(code poller.Opcode, b []byte, off int64, want uint16) {
		t.Helper()
		idx, ok := l.RegisteredBuffer(b)
		if !ok || idx != want {
			t.Fatalf("lookup: index %d %v, want %d", idx, ok, want)
		}
		op := &poller.Op{Code: code, Fd: fd, Buf: b, Offset: off, Flags: poller.FlagFixedBuffer, BufIndex: idx}
		if n, err := l.Do(context.Background(), op); int(n) != len(b) || err != nil {
			t.Fatalf("fixed op %v at %d: %d %v", code, off, n, err)
		}
	}
	arenas := make([]*Arena, 3)
	bufs := make([][]byte, 3)
	slots := map[uint16]bool{}
	for i := range arenas {
		arenas[i] = newTestArena(t, l, ArenaOptions{BufSize: 4096, Count: 2, Register: RegisterRequire})
		bufs[i] = arenas[i].Get()
		idx, _ := l.RegisteredBuffer(bufs[i])
		slots[idx] = true
	}
	if len(slots) != 3 {
		t.Fatalf("3 arenas in %d slots", len(slots))
	}
	slotOf := func(i int) uint16 { idx, _ := l.RegisteredBuffer(bufs[i]); return idx }
	for i := range arenas {
		copy(bufs[i], strings.Repeat(string(rune('a'+i)), 4096))
		fixed(poller.OpWrite, bufs[i], int64(i)*4096, slotOf(i))
	}
	for i := range arenas {
		j := (i + 1) % 3
		fixed(poller.OpRead, bufs[j], int64(i)*4096, slotOf(j))
		if !bytes.Equal(bufs[j], bytes.Repeat([]byte{byte('a' + i)}, 4096)) {
			t.Fatalf("block %d read into arena %d: %q…", i, j, bufs[j][:8])
		}
	}
	freed := slotOf(1)
	arenas[1].Put(bufs[1])
	if err := arenas[1].Close(); err != nil {
		t.Fatal(err)
	}
	fresh := newTestArena(t, l, ArenaOptions{BufSize: 4096, Count: 2, Register: RegisterRequire})
	defer fresh.Close()
	fb := fresh.Get()
	defer fresh.Put(fb)
	fixed(poller.OpRead, fb, 0, freed)
	if fb[0] != 'a' || fb[4095] != 'a' {
		t.Fatalf("read through the reused slot: %q", fb[:8])
	}
	fixed(poller.OpRead, bufs[2], 4096, slotOf(2))
	if bufs[2][0] != 'b' {
		t.Fatalf("read through a neighbour after the reuse: %q", bufs[2][:8])
	}
	var next int
	_ = l.Call(context.Background(), func() { next = l.bufs.slots.Used() })
	if next != 3 {
		t.Fatalf("%d slots used for 3 arenas at a time", next)
	}
	for _, i := range []int{0, 2} {
		arenas[i].Put(bufs[i])
		if err := arenas[i].Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestArenaOnLoop: NewArena and Close called from code on the loop register and
// unregister there at once, rather than waiting for the loop they block.
func TestArenaOnLoop(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *Runtime) {
		l := rt.Loops()[0]
		var a *Arena
		var err, closeErr error
		var registered, found bool
		if e := l.Call(context.Background(), func() {
			if a, err = NewArena(context.Background(), l, ArenaOptions{Count: 2}); err != nil {
				return
			}
			registered = a.Registered()
			b := a.Get()
			_, found = l.RegisteredBuffer(b)
			a.Put(b)
			closeErr = a.Close()
		}); e != nil {
			t.Fatal(e)
		}
		uring := rt.Driver().Kind == driver.Uring
		if err != nil || closeErr != nil || registered != uring || found != uring {
			t.Fatalf("arena on the loop: %v, close %v, registered %v, found %v", err, closeErr, registered, found)
		}
	})
}

// TestArenaOutlivesRuntime: closing the runtime with arenas still open (one with a
// buffer out) takes their registration with the ring, without a leak or a panic;
// the arenas then read as unregistered, and Put and Close still work.
func TestArenaOutlivesRuntime(t *testing.T) {
	for _, k := range testkit.Drivers(t) {
		t.Run(string(k), func(t *testing.T) {
			before := snapshot(t)
			rt, err := New(Options{Loops: 1, Driver: k})
			if err != nil {
				t.Fatal(err)
			}
			before.watchThreads(t, rt)
			l := rt.Loops()[0]
			a := newTestArena(t, l, ArenaOptions{})
			b := newTestArena(t, l, ArenaOptions{Count: 4})
			buf := a.Get()
			if err := rt.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			if a.Registered() || b.Registered() {
				t.Fatal("arenas read as registered after their ring closed")
			}
			if _, ok := l.RegisteredBuffer(buf); ok {
				t.Fatal("the lookup finds an arena after its ring closed")
			}
			if _, err := NewArena(context.Background(), l, ArenaOptions{}); !errors.Is(err, ErrClosed) {
				t.Fatalf("NewArena on a closed runtime: %v, want ErrClosed", err)
			}
			copy(buf, "still mapped")
			if err := a.Put(buf); err != nil {
				t.Fatal(err)
			}
			for _, x := range []*Arena{a, b} {
				if err := x.Close(); err != nil {
					t.Fatal(err)
				}
			}
			before.check(t, rt)
		})
	}
}

// TestRegisteredBufferAllocs: the lookup, which runs per op, allocates nothing.
func TestRegisteredBufferAllocs(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *Runtime) {
		l := rt.Loops()[0]
		a := newTestArena(t, l, ArenaOptions{})
		defer a.Close()
		b := a.Get()
		defer a.Put(b)
		heap := make([]byte, 64)
		if n := testing.AllocsPerRun(1000, func() {
			l.RegisteredBuffer(b)
			l.RegisteredBuffer(heap)
		}); n != 0 {
			t.Fatalf("RegisteredBuffer allocates %.1f times per call", n)
		}
	})
}

func BenchmarkRegisteredBuffer(b *testing.B) {
	rt, err := New(Options{Loops: 1, Driver: driver.Uring})
	if err != nil {
		b.Skip(err)
	}
	defer rt.Close(context.Background())
	l := rt.Loops()[0]
	var arenas []*Arena
	for range 4 {
		a, err := NewArena(context.Background(), l, ArenaOptions{Count: 4})
		if err != nil {
			b.Fatal(err)
		}
		arenas = append(arenas, a)
		defer a.Close()
	}
	buf := arenas[3].Get()
	defer arenas[3].Put(buf)
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := l.RegisteredBuffer(buf); !ok {
			b.Fatal("not found")
		}
	}
}

// TestMapArenaBindsBeforePopulating maps an arena with a binding to node 0 (the one
// node every Linux machine has): /proc/self/numa_maps shows the policy on the mapping
// and its pages on that node, all present. A failing binding unmaps and says so.
func TestMapArenaBindsBeforePopulating(t *testing.T) {
	const size = 16 << 12
	mem, err := mapArena(size, func(m []byte) error { return numa.Bind(m, 0, numa.Preferred) })
	if err != nil {
		t.Fatal(err)
	}
	defer unmapArena(mem)
	maps, err := os.ReadFile("/proc/self/numa_maps")
	if err != nil {
		t.Skipf("no NUMA policy reporting here: %v", err)
	}
	addr := fmt.Sprintf("%x ", uintptr(unsafe.Pointer(&mem[0])))
	var line string
	for _, l := range strings.Split(string(maps), "\n") {
		if strings.HasPrefix(l, addr) {
			line = l
		}
	}
	if !strings.Contains(line, "prefer:0") || !strings.Contains(line, "N0=16") {
		t.Errorf("arena mapping %q: want policy prefer:0 and 16 pages on node 0", line)
	}
	boom := errors.New("boom")
	if _, err := mapArena(size, func([]byte) error { return boom }); !errors.Is(err, boom) {
		t.Errorf("failing bind: %v, want it wrapped", err)
	}
}

//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package zfile

import (
	"context"
	"hash/crc32"
	"io"
	"os"
	goruntime "runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zokio/zokio/internal/testkit"
)

// TestGCStressIntegrity keeps thousands of reads and writes in flight through all three
// APIs while the collector runs without pause, with fresh buffers for every op, and
// checks every byte by checksum.
func TestGCStressIntegrity(t *testing.T) {
	forEachDriver(t, 2, func(t *testing.T, e *env) {
		const size = 4 << 20
		data := writeFile(t, e.path("data"), size)
		sums := blockSums(data)
		rf := mustOpen(t, e, e.path("data"), os.O_RDONLY, OpenOptions{NoFastPath: true, Fixed: true})
		defer rf.Close()
		wf := mustOpen(t, e, e.path("out"), os.O_RDWR|os.O_CREATE, OpenOptions{})
		defer wf.Close()
		testkit.GCStorm(t)
		var ops, bad atomic.Int64
		check := func(off int64, p []byte) {
			ops.Add(1)
			if crc32.ChecksumIEEE(p) != sums[off/4096] {
				bad.Add(1)
			}
		}
		deadline := time.Now().Add(stressTime)
		var wg sync.WaitGroup
		for g := 0; g < 32; g++ { // goroutine API: reads, and writes read back
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				for i := 0; time.Now().Before(deadline); i++ {
					off := int64((g*7919+i*31)%(size/4096)) * 4096
					p := make([]byte, 4096)
					if n, err := rf.ReadAt(p, off); n != 4096 || err != nil {
						t.Errorf("read: %d %v", n, err)
						return
					}
					check(off, p)
					w := make([]byte, 4096)
					copy(w, data[off:off+4096])
					woff := int64(g) * 4096
					if _, err := wf.WriteAt(w, woff); err != nil {
						t.Errorf("write: %v", err)
						return
					}
					back := make([]byte, 4096)
					if _, err := wf.ReadAt(back, woff); err != nil {
						t.Errorf("read back: %v", err)
						return
					}
					check(off, back)
				}
			}(g)
		}
		wg.Add(2)
		go func() { defer wg.Done(); loopReads(t, e, rf, 1024, deadline, check) }()
		go func() { defer wg.Done(); batchReads(t, rf, 1024, deadline, check) }()
		wg.Wait()
		if bad.Load() != 0 {
			t.Fatalf("%d of %d blocks read back wrong", bad.Load(), ops.Load())
		}
		t.Logf("%d blocks verified", ops.Load())
	})
}

// stressTime is how long each stress test runs per driver; -race makes each op slower,
// not the test longer.
const stressTime = 1500 * time.Millisecond

func blockSums(data []byte) []uint32 {
	sums := make([]uint32, len(data)/4096)
	for i := range sums {
		sums[i] = crc32.ChecksumIEEE(data[i*4096 : (i+1)*4096])
	}
	return sums
}

// loopReads keeps depth ReadAtOn ops in flight on the file's home loop, each into a
// buffer made for it, until deadline.
func loopReads(t *testing.T, e *env, f *File, depth int, deadline time.Time, check func(int64, []byte)) {
	l := f.Loop()
	done := make(chan struct{})
	running := depth
	var issue func(i int)
	issue = func(i int) { // on the loop
		if time.Now().After(deadline) {
			if running--; running == 0 {
				close(done)
			}
			return
		}
		off := int64((i*104729)%1024) * 4096
		p := make([]byte, 4096)
		err := f.ReadAtOn(l, p, off, func(n int, err error) {
			if n != 4096 || err != nil {
				t.Errorf("loop read: %d %v", n, err)
			}
			check(off, p)
			issue(i + depth)
		})
		if err != nil {
			t.Errorf("ReadAtOn: %v", err)
		}
	}
	if err := l.Call(ctxT(t), func() {
		for i := 0; i < depth; i++ {
			issue(i)
		}
	}); err != nil {
		t.Error(err)
		return
	}
	waitFor(t, done, "loop reads")
}

// batchReads submits batches of n reads, each into a fresh buffer, until deadline.
func batchReads(t *testing.T, f *File, n int, deadline time.Time, check func(int64, []byte)) {
	b := NewBatch(f.Loop())
	bufs := make([][]byte, n)
	offs := make([]int64, n)
	for round := 0; time.Now().Before(deadline); round++ {
		for i := range bufs {
			bufs[i] = make([]byte, 4096)
			offs[i] = int64((round*131+i*17)%1024) * 4096
			b.ReadAt(f, bufs[i], offs[i])
		}
		if err := b.Wait(context.Background()); err != nil {
			t.Errorf("batch: %v", err)
			return
		}
		for i := range bufs {
			check(offs[i], bufs[i])
		}
		if err := b.Reset(); err != nil {
			t.Error(err)
			return
		}
	}
}

// TestStackBuffers: buffers declared on the caller's stack, with the stack grown
// (copied elsewhere) while the op is in flight and the data arriving only after that.
//
// The buffer is safe because it is not on the stack: every API stores the buffer in a
// heap op, so escape analysis allocates `var buf [N]byte` on the heap (go build
// -gcflags=-m reports "moved to heap: buf" for stackBatchRead), and Go's heap never
// moves. Were a buffer on a stack, the FIFO read below would land in the stack's old
// copy and the check would fail.
func TestStackBuffers(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, e *env) {
		f, w := fifo(t, e)
		defer f.Close()
		testkit.GCStorm(t)
		for i := 0; i < 20; i++ {
			msg := pattern(int64(i), 512)
			if got := stackBatchRead(t, f, w, msg, 2000+i); !equal(got, msg) {
				t.Fatalf("batch read into a stack buffer: got %x…, want %x…", got[:8], msg[:8])
			}
			if got := stackParkedRead(t, f, w, msg); !equal(got, msg) {
				t.Fatalf("parked read into a stack buffer: got %x…, want %x…", got[:8], msg[:8])
			}
		}
	})
}

//go:noinline
func stackBatchRead(t *testing.T, f *File, w *os.File, msg []byte, depth int) []byte {
	var buf [512]byte
	b := NewBatch(f.Loop())
	b.ReadAt(f, buf[:], 0)
	if err := b.Submit(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if grow(depth) < 0 { // several MiB of frames: the stack is copied, more than once
		t.Fatal("unreachable")
	}
	if _, err := w.Write(msg); err != nil {
		t.Fatal(err)
	}
	if err := b.Wait(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	return append([]byte(nil), buf[:]...)
}

// stackParkedRead parks a reader in Read with its buffer "on its stack" while the
// collector runs (a parked goroutine's stack may be shrunk, that is moved, by the
// collector), and only then writes the data.
func stackParkedRead(t *testing.T, f *File, w *os.File, msg []byte) []byte {
	res := make(chan []byte, 1)
	go parkedReader(f, res)
	waitInFlight(t, f, 1)
	goruntime.GC()
	goruntime.GC()
	if _, err := w.Write(msg); err != nil {
		t.Fatal(err)
	}
	return waitFor(t, res, "parked reader")
}

//go:noinline
func parkedReader(f *File, res chan<- []byte) {
	grow(500) // a big stack now, mostly unused while parked: a candidate for shrinking
	var buf [512]byte
	// The first Read parks; ReadFull finishes the message if that Read was short
	// (a FIFO may return less, and so may a driver under fault injection).
	n, err := io.ReadFull(f, buf[:])
	if err != nil {
		res <- []byte(err.Error())
		return
	}
	res <- append([]byte(nil), buf[:n]...)
}

// grow recurses n frames of about 1 KiB each.
//
//go:noinline
func grow(n int) int {
	var pad [1024]byte
	pad[n%1024] = byte(n)
	if n == 0 {
		return int(pad[0])
	}
	return grow(n-1) + int(pad[n%1024])
}

// TestOpenReadCloseCycles: 10,000 open, read, close cycles leave no descriptor behind
// and reuse registered slots.
func TestOpenReadCloseCycles(t *testing.T) {
	forEachDriver(t, 2, func(t *testing.T, e *env) {
		name := e.path("data")
		data := writeFile(t, name, 8192)
		ctx := ctxT(t)
		before := testkit.FDCount(t)
		p := make([]byte, 4096)
		for i := 0; i < 10000; i++ {
			f, err := OpenFileWith(ctx, e.rt, name, os.O_RDONLY, 0, OpenOptions{Fixed: i%2 == 0, NoFastPath: i%4 < 2})
			if err != nil {
				t.Fatal(err)
			}
			if f.fixed > 4 {
				t.Fatalf("cycle %d: registered slot %d: slots are not reused", i, f.fixed)
			}
			off := int64(i%2) * 4096
			if n, err := f.ReadAt(p, off); n != 4096 || err != nil || !equal(p, data[off:off+4096]) {
				t.Fatalf("cycle %d: read %d %v", i, n, err)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
		}
		if after := testkit.FDCount(t); after != before {
			t.Fatalf("descriptors: %d before 10,000 cycles, %d after", before, after)
		}
	})
}

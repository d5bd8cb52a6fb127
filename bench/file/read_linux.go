package main

import (
	"context"
	"fmt"
	"os"
	goruntime "runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/zokio/zokio/runtime"
	"github.com/zokio/zokio/runtime/driver"
	"github.com/zokio/zokio/runtime/zfile"
	"github.com/zokio/zokio/sqpoll"
)

// The read contenders. go-*: `depth` goroutines calling File.ReadAt (as os does);
// loop-*: `depth` ReadAtOn ops kept in flight from callbacks on the loop; batch-*: one
// goroutine submitting `depth` reads as a Batch and waiting for all, repeatedly;
// *-fixed: the file in the loop's registered file table and buffers from a registered
// Arena; *-eager: the file opened with OpenOptions.EagerSubmit, so that each read
// enters the kernel on its own as soon as it is queued (fio's submission pattern);
// fio*: fio's io_uring engine (see fio_linux.go).
var allReaders = []string{"os", "go-uring", "go-uring-eager", "go-epoll", "loop-uring",
	"loop-uring-eager", "loop-uring-fixed", "loop-epoll", "batch-uring", "fio", "fio-fixed"}

type readSample struct {
	Contender   string  `json:"contender"`
	Mode        string  `json:"mode"`
	Depth       int     `json:"depth"`
	Rep         int     `json:"rep"`
	Ops         uint64  `json:"ops"`
	Seconds     float64 `json:"seconds"`
	IOPS        float64 `json:"iops"`
	CPUSeconds  float64 `json:"cpu_seconds"`
	CPUPerOp    float64 `json:"cpu_per_op"`
	AllocsPerOp float64 `json:"allocs_per_op"`
	// EntersPerOp is the runtime's kernel enters (io_uring_enter or epoll_wait) per
	// op in the window, for Zokio's contenders; -1 for the others.
	EntersPerOp float64 `json:"enters_per_op"`
	Note        string  `json:"note,omitempty"`
}

func runReader(name, mode, file string, size int64, depth int, warm, dur time.Duration) (readSample, error) {
	s := readSample{Contender: name, Mode: mode, Depth: depth, EntersPerOp: -1}
	var err error
	switch {
	case strings.HasPrefix(name, "fio"):
		err = runFio(&s, file, size, warm, dur, name == "fio-fixed")
	case name == "os":
		err = runOS(&s, file, size, warm, dur)
	default:
		err = runOurs(&s, file, size, warm, dur)
	}
	return s, err
}

func openFlags(mode string) int {
	if mode == "direct" {
		return os.O_RDONLY | syscall.O_DIRECT
	}
	return os.O_RDONLY
}

// rng is a xorshift generator of 4 KiB-aligned offsets within size.
type rng struct {
	x      uint64
	blocks uint64
}

func newRNG(seed int, size int64) *rng {
	return &rng{x: uint64(seed)*0x9E3779B97F4A7C15 | 1, blocks: uint64(size / 4096)}
}

func (r *rng) next() int64 {
	r.x ^= r.x << 13
	r.x ^= r.x >> 7
	r.x ^= r.x << 17
	return int64(r.x%r.blocks) * 4096
}

// counters are per-worker op counts on separate cache lines.
type counters []struct {
	n atomic.Uint64
	_ [56]byte
}

func (c counters) sum() uint64 {
	var t uint64
	for i := range c {
		t += c[i].n.Load()
	}
	return t
}

// window measures ops, CPU and allocations between two points in time.
type window struct {
	t0     time.Time
	cpu0   float64
	ops0   uint64
	mallc0 uint64
}

func cpuNow() float64 {
	var ru unix.Rusage
	_ = unix.Getrusage(unix.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

func mallocs() uint64 {
	var ms goruntime.MemStats
	goruntime.ReadMemStats(&ms)
	return ms.Mallocs
}

// kernelEnters, while one of Zokio's contenders runs, counts its runtime's kernel
// enters so far.
var kernelEnters func() uint64

// timed waits out warm, measures dur with ops as the op counter, and fills s.
func timed(s *readSample, warm, dur time.Duration, ops func() uint64) {
	time.Sleep(warm) // the benchmark's clock, not a wait for an event
	var e0 uint64
	if kernelEnters != nil {
		e0 = kernelEnters()
	}
	w := window{t0: time.Now(), cpu0: cpuNow(), ops0: ops(), mallc0: mallocs()}
	time.Sleep(dur)
	if kernelEnters != nil {
		defer func(e1 uint64) {
			if s.Ops > 0 {
				s.EntersPerOp = float64(e1-e0) / float64(s.Ops)
			}
		}(kernelEnters())
	}
	m1 := mallocs()
	n := ops() - w.ops0
	cpu := cpuNow() - w.cpu0
	el := time.Since(w.t0).Seconds()
	s.Ops, s.Seconds, s.CPUSeconds = n, el, cpu
	s.IOPS = float64(n) / el
	if n > 0 {
		s.CPUPerOp = cpu / float64(n)
		s.AllocsPerOp = float64(m1-w.mallc0) / float64(n)
	}
}

type readerAt interface {
	ReadAt(p []byte, off int64) (int, error)
}

// goroutines runs depth goroutines reading from r until the measurement ends.
func goroutines(s *readSample, r readerAt, size int64, warm, dur time.Duration) error {
	var stop atomic.Bool
	var wg sync.WaitGroup
	var firstErr atomic.Value
	cs := make(counters, s.Depth)
	for i := 0; i < s.Depth; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			buf := zfile.AlignedBuffer(4096, 4096)
			g := newRNG(i+1, size)
			for !stop.Load() {
				if _, err := r.ReadAt(buf, g.next()); err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				cs[i].n.Add(1)
			}
		}(i)
	}
	timed(s, warm, dur, cs.sum)
	stop.Store(true)
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		return err
	}
	return nil
}

func runOS(s *readSample, file string, size int64, warm, dur time.Duration) error {
	f, err := os.OpenFile(file, openFlags(s.Mode), 0)
	if err != nil {
		return err
	}
	defer f.Close()
	return goroutines(s, f, size, warm, dur)
}

// runOurs runs one of Zokio's contenders. A name may end in "+sq=MODE" (off,
// perring or shared), the SQPOLL mode of its runtime; without it, the -sqpoll flag's.
func runOurs(s *readSample, file string, size int64, warm, dur time.Duration) error {
	name, sq, hasSQ := strings.Cut(s.Contender, "+sq=")
	kind := driver.Uring
	if strings.Contains(name, "epoll") {
		kind = driver.Epoll
	}
	opts := runtimeOptions(kind)
	if hasSQ {
		m, err := sqpoll.ParseMode(sq)
		if err != nil {
			return fmt.Errorf("contender %q: %w", s.Contender, err)
		}
		opts.SQPoll.Mode = m
	}
	rt, err := runtime.New(opts)
	if err != nil {
		return err
	}
	defer rt.Close(context.Background())
	if d := rt.SQPoll(); hasSQ && d.Mode != opts.SQPoll.Mode {
		return fmt.Errorf("contender %q: SQPOLL %v asked, the runtime runs %v: %s", s.Contender, opts.SQPoll.Mode, d.Mode, d.Reason)
	}
	kernelEnters = func() uint64 {
		var n uint64
		for _, st := range rt.Stats() {
			n += st.KernelEnters
		}
		return n
	}
	defer func() { kernelEnters = nil }()
	if os.Getenv("ZFILE_BENCH_STATS") != "" {
		defer func() { fmt.Fprintf(os.Stderr, "%s stats: %+v\n", s.Contender, rt.Loops()[0].Stats()) }()
	}
	ctx := context.Background()
	o := zfile.OpenOptions{Fixed: strings.HasSuffix(name, "-fixed"), EagerSubmit: strings.HasSuffix(name, "-eager")}
	if strings.HasPrefix(name, "loop-") {
		return onLoops(s, rt, file, size, warm, dur, o)
	}
	f, err := zfile.OpenFileWith(ctx, rt, file, openFlags(s.Mode), 0, o)
	if err != nil {
		return err
	}
	defer f.Close()
	if strings.HasPrefix(name, "batch-") {
		return batches(s, f, size, warm, dur)
	}
	return goroutines(s, f, size, warm, dur)
}

// onLoops keeps depth ReadAtOn ops in flight from callbacks, spread over the
// runtime's loops, each loop reading through a File opened on it with o (and, with
// o.Fixed, registered there, with buffers from a registered arena).
func onLoops(s *readSample, rt *runtime.Runtime, file string, size int64, warm, dur time.Duration, o zfile.OpenOptions) error {
	loops := rt.Loops()
	var ops atomic.Uint64
	var stop atomic.Bool
	errs := make(chan error, len(loops))
	started := 0
	for i, l := range loops {
		depth := s.Depth / len(loops)
		if i < s.Depth%len(loops) {
			depth++
		}
		if depth == 0 {
			continue
		}
		r, err := newLoopReader(l, file, s.Mode, depth, size, o, i+1, &ops, &stop)
		if err != nil {
			return err
		}
		defer r.close()
		if err := r.start(); err != nil {
			return err
		}
		started++
		go func() { errs <- r.wait() }()
	}
	timed(s, warm, dur, ops.Load)
	stop.Store(true)
	var first error
	for range started {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// loopReader is one loop's share of the loop contender.
type loopReader struct {
	l     *runtime.Loop
	f     *zfile.File
	arena *zfile.Arena
	bufs  [][]byte
	cbs   []func(int, error)
	done  chan error
	g     *rng
}

func newLoopReader(l *runtime.Loop, file, mode string, depth int, size int64, o zfile.OpenOptions, seed int,
	ops *atomic.Uint64, stop *atomic.Bool) (*loopReader, error) {
	ctx := context.Background()
	o.Loop = l
	f, err := zfile.OpenFileWith(ctx, l.Runtime(), file, openFlags(mode), 0, o)
	if err != nil {
		return nil, err
	}
	r := &loopReader{l: l, f: f, bufs: make([][]byte, depth), cbs: make([]func(int, error), depth),
		done: make(chan error, 1), g: newRNG(seed, size)}
	if o.Fixed {
		if r.arena, err = zfile.NewArena(ctx, l, zfile.ArenaOptions{Count: depth, Register: zfile.RegisterRequire}); err != nil {
			f.Close()
			return nil, err
		}
		if !f.Fixed() {
			r.close()
			return nil, fmt.Errorf("file not in the registered table")
		}
	}
	running := depth
	for i := range r.cbs {
		if r.arena != nil {
			r.bufs[i] = r.arena.Get()
		} else {
			r.bufs[i] = zfile.AlignedBuffer(4096, 4096)
		}
		r.cbs[i] = func(n int, err error) { // on the loop
			if err == nil {
				ops.Add(1)
			}
			if err != nil || stop.Load() {
				if running--; running == 0 || err != nil {
					select {
					case r.done <- err:
					default:
					}
				}
				return
			}
			if err := f.ReadAtOn(l, r.bufs[i], r.g.next(), r.cbs[i]); err != nil {
				select {
				case r.done <- err:
				default:
				}
			}
		}
	}
	return r, nil
}

func (r *loopReader) start() error {
	return r.l.Call(context.Background(), func() {
		for i := range r.cbs {
			_ = r.f.ReadAtOn(r.l, r.bufs[i], r.g.next(), r.cbs[i])
		}
	})
}

func (r *loopReader) wait() error { return <-r.done }

func (r *loopReader) close() {
	r.f.Close()
	if r.arena != nil {
		for _, b := range r.bufs {
			_ = r.arena.Put(b)
		}
		r.arena.Close()
	}
}

// batches submits depth reads as one Batch and waits for all, repeatedly.
func batches(s *readSample, f *zfile.File, size int64, warm, dur time.Duration) error {
	var ops atomic.Uint64
	var stop atomic.Bool
	errc := make(chan error, 1)
	go func() {
		b := zfile.NewBatch(f.Loop())
		bufs := make([][]byte, s.Depth)
		for i := range bufs {
			bufs[i] = zfile.AlignedBuffer(4096, 4096)
		}
		g := newRNG(1, size)
		ctx := context.Background()
		for !stop.Load() {
			for i := range bufs {
				b.ReadAt(f, bufs[i], g.next())
			}
			if err := b.Wait(ctx); err != nil {
				errc <- err
				return
			}
			ops.Add(uint64(s.Depth))
			_ = b.Reset()
		}
		errc <- nil
	}()
	timed(s, warm, dur, ops.Load)
	stop.Store(true)
	return <-errc
}

// rtOpts are the runtime options every zfile contender uses (flags -loops, -nopin,
// -spin).
var rtOpts runtime.Options

func runtimeOptions(kind driver.Kind) runtime.Options {
	o := rtOpts
	o.Driver = kind
	return o
}

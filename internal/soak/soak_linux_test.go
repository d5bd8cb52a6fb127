package soak

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	goruntime "runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/zokio/zokio/internal/testkit"
	"github.com/zokio/zokio/runtime"
	"github.com/zokio/zokio/runtime/driver"
	"github.com/zokio/zokio/runtime/zfile"
	"github.com/zokio/zokio/runtime/znet"
)

var soakFor = flag.Duration("soak", 0, "run TestSoak for this long per driver (0: skip it)")

// The bounds the soak holds at its end, against the state after its first cycle
// (the warm-up: pools, buffer groups and the collector's heap goal settle there).
const (
	maxGoroutineGrowth = 5        // goroutines beyond the warm-up count
	maxRSSGrowth       = 64 << 20 // resident bytes beyond the warm-up, or 50% of it if more
	cycles             = 6        // runtime New/Close cycles per driver, at least
)

// counts are the soak's totals, for its report.
type counts struct {
	conns, echoed, fileBytes, timers, deadlines, signals atomic.Int64
}

func TestSoak(t *testing.T) {
	if *soakFor <= 0 {
		t.Skip("the soak runs only with -soak=DURATION (CI: -soak=1m; before a release: -soak=1h)")
	}
	for _, k := range testkit.Drivers(t) {
		t.Run(string(k), func(t *testing.T) { soak(t, k, *soakFor) })
	}
}

func soak(t *testing.T, k driver.Kind, total time.Duration) {
	sigs := make(chan os.Signal, 64)
	signal.Notify(sigs, syscall.SIGUSR1) // else SIGUSR1 ends the process
	defer signal.Stop(sigs)
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		for range sigs {
		}
	}()
	defer func() { signal.Stop(sigs); close(sigs); <-drained }()

	var c counts

	cycle := max(total/cycles, 5*time.Second)
	end := time.Now().Add(total)
	var baseFDs, baseG int
	var baseRSS int64
	for i := 0; i == 0 || time.Now().Before(end); i++ {
		// The storm covers the runtime's New and Close too, and stops before the
		// counts are taken (it opens /proc/self/task while it runs).
		stopStorm := storm(t, &c)
		runCycle(t, k, cycle, uint64(i), &c)
		stopStorm()
		if t.Failed() {
			return
		}
		fds, g, rss := measure(t)
		if i == 0 {
			baseFDs, baseG, baseRSS = fds, g, rss
			continue
		}
		if fds > baseFDs {
			t.Fatalf("cycle %d: %d descriptors open, %d after the first cycle", i, fds, baseFDs)
		}
		if g > baseG+maxGoroutineGrowth {
			t.Fatalf("cycle %d: %d goroutines, %d after the first cycle\n%s", i, g, baseG, stacks())
		}
		if limit := baseRSS + max(maxRSSGrowth, baseRSS/2); rss > limit {
			t.Fatalf("cycle %d: resident %d MiB, %d MiB after the first cycle (bound %d MiB)", i, rss>>20, baseRSS>>20, limit>>20)
		}
	}
	fds, g, rss := measure(t)
	t.Logf("%s: %v: %d connections, %d bytes echoed and verified, %d file bytes read back, %d timers, %d deadlines, %d signals; end: %d fds (warm-up %d), %d goroutines (%d), RSS %d MiB (%d MiB)",
		k, total, c.conns.Load(), c.echoed.Load(), c.fileBytes.Load(), c.timers.Load(), c.deadlines.Load(), c.signals.Load(),
		fds, baseFDs, g, baseG, rss>>20, baseRSS>>20)
}

// measure returns the descriptors, goroutines and resident bytes of the process, after
// a collection has returned what it can to the system.
func measure(t *testing.T) (fds, goroutines int, rss int64) {
	goruntime.GC()
	debug.FreeOSMemory()
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b))
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return testkit.FDCount(t), goruntime.NumGoroutine(), pages * int64(os.Getpagesize())
}

func stacks() string {
	buf := make([]byte, 1<<20)
	return string(buf[:goruntime.Stack(buf, true)])
}

// storm sends SIGURG and SIGUSR1 to every thread of the process, about every
// millisecond, until stopped: system calls get interrupted, and the runtime must
// retry them without losing or repeating anything (docs/RELIABILITY.md trap 8).
func storm(t *testing.T, c *counts) (stop func()) {
	quit := make(chan struct{})
	done := make(chan struct{})
	pid := unix.Getpid()
	go func() {
		defer close(done)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-quit:
				return
			case <-tick.C:
			}
			ents, err := os.ReadDir("/proc/self/task")
			if err != nil {
				continue
			}
			for _, e := range ents {
				tid, err := strconv.Atoi(e.Name())
				if err != nil {
					continue
				}
				for _, s := range []unix.Signal{unix.SIGURG, unix.SIGUSR1} {
					if unix.Tgkill(pid, tid, s) == nil {
						c.signals.Add(1)
					}
				}
			}
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(quit); <-done }) }
}

// runCycle makes a runtime, runs every workload on it for d, and closes it.
func runCycle(t *testing.T, k driver.Kind, d time.Duration, seed uint64, c *counts) {
	rt, err := runtime.New(runtime.Options{Loops: 2, Driver: k, NoPin: true})
	if err != nil {
		t.Fatalf("runtime.New(%s): %v", k, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	srv, err := znet.Serve(ctx, rt, "tcp", "127.0.0.1:0", znet.Config{Handler: echo{}, IdleTimeout: time.Minute})
	if err != nil {
		t.Fatalf("Serve: %v", err)
	}
	dir := t.TempDir()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	work := func(name string, fn func(i int) error) {
		for i := 0; i < 3; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					if err := fn(i); err != nil && ctx.Err() == nil {
						errs <- fmt.Errorf("%s %d: %w", name, i, err)
						return
					}
				}
			}()
		}
	}
	var n atomic.Uint64
	work("echo", func(int) error { return echoOnce(ctx, rt, srv.Addr().String(), seed<<32|n.Add(1), c) })
	work("file", func(i int) error {
		return fileOnce(ctx, rt, filepath.Join(dir, strconv.Itoa(i)), seed<<32|n.Add(1), c)
	})
	work("timer", func(int) error { return timerOnce(ctx, rt, c) })
	work("deadline", func(int) error { return deadlineOnce(ctx, rt, srv.Addr().String(), c) })
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	cctx, ccancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer ccancel()
	if err := srv.Close(cctx); err != nil {
		t.Errorf("Server.Close: %v", err)
	}
	if err := rt.Close(cctx); err != nil {
		t.Errorf("runtime Close: %v", err)
	}
}

// echo writes back what it receives.
type echo struct{}

func (echo) OnOpen(*znet.Conn) {}
func (echo) OnData(c *znet.Conn, b []byte) {
	if _, err := c.Write(b); err != nil {
		c.Close()
	}
}
func (echo) OnClose(*znet.Conn, error) {}

// echoOnce dials, sends a seeded frame stream of random length while reading the
// echo back through the oracle, and closes: churn plus a checksummed round trip.
func echoOnce(ctx context.Context, rt *runtime.Runtime, addr string, seed uint64, c *counts) error {
	conn, err := znet.DialNetConn(ctx, rt, "tcp", addr)
	if err != nil {
		return ignoreEnd(ctx, err)
	}
	defer conn.Close()
	c.conns.Add(1)
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	total := int64(1 + rand.IntN(256<<10))
	src, chk := testkit.NewStream(seed, 1400), testkit.NewChecker(seed)
	werr := make(chan error, 1)
	go func() {
		buf := make([]byte, 16<<10)
		for sent := int64(0); sent < total; {
			n := min(int64(1+rand.IntN(len(buf))), total-sent)
			src.Read(buf[:n])
			if _, err := conn.Write(buf[:n]); err != nil {
				werr <- err
				return
			}
			sent += n
		}
		werr <- conn.CloseWrite()
	}()
	got, err := io.Copy(chk, conn)
	if e := <-werr; err == nil {
		err = e
	}
	if err != nil {
		return ignoreEnd(ctx, err)
	}
	if err := chk.Done(total); err != nil {
		return fmt.Errorf("echo of %d bytes (%d back): %w", total, got, err)
	}
	c.echoed.Add(total)
	return nil
}

// fileOnce writes a file in random chunks at random offsets, reads it back whole and
// compares, then removes it.
func fileOnce(ctx context.Context, rt *runtime.Runtime, name string, seed uint64, c *counts) error {
	f, err := zfile.OpenFile(ctx, rt, name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return ignoreEnd(ctx, err)
	}
	defer zfile.Remove(context.Background(), rt, name)
	defer f.Close()
	r := rand.New(rand.NewPCG(seed, 7))
	want := make([]byte, 1+r.IntN(1<<20))
	for i := range want {
		want[i] = byte(r.Uint32())
	}
	for off := 0; off < len(want); {
		n := min(1+r.IntN(128<<10), len(want)-off)
		if m, err := f.WriteAt(want[off:off+n], int64(off)); err != nil || m != n {
			return ignoreEnd(ctx, fmt.Errorf("WriteAt(%d, %d) = %d, %v", n, off, m, err))
		}
		off += n
	}
	got := make([]byte, len(want))
	if m, err := f.ReadAt(got, 0); (err != nil && err != io.EOF) || m != len(want) {
		return ignoreEnd(ctx, fmt.Errorf("ReadAt(%d) = %d, %v", len(want), m, err))
	}
	if !bytes.Equal(got, want) {
		return fmt.Errorf("file %s: %d bytes read back differ", name, len(want))
	}
	c.fileBytes.Add(int64(len(want)))
	return nil
}

// timerOnce sleeps on a loop for a random few milliseconds: never early, never lost.
func timerOnce(ctx context.Context, rt *runtime.Runtime, c *counts) error {
	l := rt.Loops()[rand.IntN(len(rt.Loops()))]
	d := time.Duration(1+rand.IntN(20)) * time.Millisecond
	start := time.Now()
	if _, err := l.Sleep(d).Await(context.Background()); err != nil {
		return ignoreEnd(ctx, err)
	}
	if el := time.Since(start); el < d {
		return fmt.Errorf("a %v sleep returned after %v", d, el)
	}
	c.timers.Add(1)
	return nil
}

// deadlineOnce reads with a short deadline from a connection the server sends
// nothing on: the read must time out, and not early.
func deadlineOnce(ctx context.Context, rt *runtime.Runtime, addr string, c *counts) error {
	conn, err := znet.Dial(ctx, rt, "tcp", addr)
	if err != nil {
		return ignoreEnd(ctx, err)
	}
	defer conn.Close()
	d := time.Duration(5+rand.IntN(30)) * time.Millisecond
	start := time.Now()
	conn.SetReadDeadline(start.Add(d))
	_, err = conn.Read(make([]byte, 1))
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		return ignoreEnd(ctx, fmt.Errorf("read with a deadline: %v", err))
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		return fmt.Errorf("deadline error %v is not a net.Error timeout", err)
	}
	if el := time.Since(start); el < d {
		return fmt.Errorf("a %v deadline fired after %v", d, el)
	}
	c.deadlines.Add(1)
	return nil
}

// ignoreEnd drops an error that only says the cycle is ending.
func ignoreEnd(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}

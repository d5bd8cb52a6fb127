package pollertest

import (
	"errors"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/zokio/zokio/poller"
)

// Scenarios that need no descriptors: they run on every platform.
func init() {
	register("Nop", testNop)
	register("ExactlyOnceMany", testExactlyOnceMany)
	register("ResubmitFromDone", testResubmitFromDone)
	register("Timeout", testTimeout)
	register("TimeoutCancel", testTimeoutCancel)
	register("TimeoutOrder", testTimeoutOrder)
	register("CancelIdle", testCancelIdle)
	register("WaitZeroDoesNotBlock", testWaitZero)
	register("WaitTimeoutElapses", testWaitTimeout)
	register("WakeUnblocksWait", testWakeUnblocks)
	register("WakeBeforeWait", testWakeBeforeWait)
	register("WakeStress", testWakeStress)
	register("WaitReentrant", testWaitReentrant)
	register("BadInput", testBadInput)
	register("CloseCancelsInFlight", testCloseCancels)
	register("SubmitAfterClose", testSubmitAfterClose)
	register("CustodyUnderGC", testCustodyUnderGC)
}

func testNop(t *testing.T, nd NewDriver) {
	h := start(t, nd)
	r := h.run(newRec(t, poller.Op{Code: poller.OpNop}))
	if res := r.ok(); res != 0 {
		t.Fatalf("nop result %d, want 0", res)
	}
}

// testExactlyOnceMany keeps more ops in flight than any ring has entries, so a driver
// must flush while submitting and survive completion-queue overflow.
func testExactlyOnceMany(t *testing.T, nd NewDriver) {
	h := start(t, nd)
	const n = 10000
	counts := make([]int32, n)
	ops := make([]poller.Op, n)
	done := 0
	for i := range ops {
		ops[i] = poller.Op{Code: poller.OpNop, Offset: int64(i), Done: func(op *poller.Op) {
			counts[op.Offset]++
			done++
		}}
		h.submit(&ops[i])
	}
	h.until("10000 nops", func() bool { return done >= n })
	for i, c := range counts {
		if c != 1 {
			t.Fatalf("op %d completed %d times", i, c)
		}
	}
}

func testResubmitFromDone(t *testing.T, nd NewDriver) {
	h := start(t, nd)
	const rounds = 1000
	n := 0
	op := poller.Op{Code: poller.OpNop, Done: func(o *poller.Op) {
		n++
		if n < rounds {
			if err := h.d.Submit(o); err != nil {
				t.Errorf("resubmit from Done: %v", err)
				n = rounds
			}
		}
	}}
	h.submit(&op)
	h.until("resubmitted nops", func() bool { return n >= rounds })
	if op.InFlight() {
		t.Fatal("op still in flight after its last completion")
	}
}

func testTimeout(t *testing.T, nd NewDriver) {
	h := start(t, nd)
	const d = 30 * time.Millisecond
	begin := time.Now()
	r := h.run(newRec(t, poller.Op{Code: poller.OpTimeout, Timeout: d}))
	wantErrno(t, "timeout", r.only(), poller.ETIME)
	if el := time.Since(begin); el < d-time.Millisecond {
		t.Fatalf("timeout of %v fired after %v", d, el)
	}
}

func testTimeoutCancel(t *testing.T, nd NewDriver) {
	h := start(t, nd)
	r := newRec(t, poller.Op{Code: poller.OpTimeout, Timeout: time.Hour})
	h.submit(&r.op)
	h.quiet(5*time.Millisecond, r)
	fatalIf(t, h.d.Cancel(&r.op), "Cancel")
	h.until("cancelled timeout", r.isFinal)
	wantErrno(t, "cancelled timeout", r.only(), syscall.ECANCELED)
}

// testTimeoutOrder arms timers out of order and checks they fire in deadline order.
// A deadline counts from its op's Submit, so each is known to lie between the clock
// read before and after that Submit: on a loaded host the submissions themselves take
// milliseconds, and a timer submitted late may rightly fire after one armed earlier
// with a shorter timeout. Firing after a timer whose deadline is certainly later fails.
func testTimeoutOrder(t *testing.T, nd NewDriver) {
	h := start(t, nd)
	ms := []int{40, 10, 30, 20, 1}
	var order []int
	recs := make([]poller.Op, len(ms))
	earliest, latest := make([]time.Time, len(ms)), make([]time.Time, len(ms))
	for i, m := range ms {
		recs[i] = poller.Op{Code: poller.OpTimeout, Timeout: time.Duration(m) * time.Millisecond,
			Offset: int64(i), Done: func(op *poller.Op) { order = append(order, int(op.Offset)) }}
		earliest[i] = time.Now().Add(recs[i].Timeout)
		h.submit(&recs[i])
		latest[i] = time.Now().Add(recs[i].Timeout)
	}
	h.until("five timers", func() bool { return len(order) == len(ms) })
	for i := 1; i < len(order); i++ {
		a, b := order[i-1], order[i]
		if latest[b].Before(earliest[a]) {
			fired := make([]int, len(order))
			for j, k := range order {
				fired[j] = ms[k]
			}
			t.Fatalf("timers (ms) fired in order %v: %d ms, due by %v, after %d ms, due from %v",
				fired, ms[b], latest[b].Format("15:04:05.000000"), ms[a], earliest[a].Format("15:04:05.000000"))
		}
	}
}

func testCancelIdle(t *testing.T, nd NewDriver) {
	h := start(t, nd)
	op := poller.Op{Code: poller.OpNop, Done: func(*poller.Op) {}}
	if err := h.d.Cancel(&op); !errors.Is(err, poller.ErrNotInFlight) {
		t.Fatalf("Cancel of an idle op: %v, want ErrNotInFlight", err)
	}
}

func testWaitZero(t *testing.T, nd NewDriver) {
	h := start(t, nd)
	begin := time.Now()
	n, err := h.d.Wait(0)
	fatalIf(t, err, "Wait(0)")
	if n != 0 {
		t.Fatalf("Wait(0) on an idle driver delivered %d completions", n)
	}
	if el := time.Since(begin); el > time.Second {
		t.Fatalf("Wait(0) blocked for %v", el)
	}
}

func testWaitTimeout(t *testing.T, nd NewDriver) {
	h := start(t, nd)
	const d = 20 * time.Millisecond
	begin := time.Now()
	for time.Since(begin) < d {
		if _, err := h.d.Wait(d - time.Since(begin)); err != nil {
			t.Fatal(err)
		}
	}
	if el := time.Since(begin); el > d+2*time.Second {
		t.Fatalf("Wait(%v) returned after %v", d, el)
	}
}

func testWakeUnblocks(t *testing.T, nd NewDriver) {
	h := start(t, nd)
	var woke atomic.Bool
	// The wake comes from a timer goroutine 10 ms from now, when the loop below is
	// (almost certainly) blocked in Wait(-1); if it is not yet, the wake must still
	// make its next Wait return, which is the other half of the promise.
	wake := time.AfterFunc(10*time.Millisecond, func() {
		woke.Store(true)
		if err := h.d.Wake(); err != nil {
			t.Errorf("Wake: %v", err)
		}
	})
	defer wake.Stop()
	guard := time.AfterFunc(deadline, func() { _ = h.d.Wake() })
	defer guard.Stop()
	begin := time.Now()
	for !woke.Load() {
		if _, err := h.d.Wait(-1); err != nil {
			t.Fatal(err)
		}
	}
	if el := time.Since(begin); el >= deadline {
		t.Fatalf("Wait(-1) returned only at the guard, after %v: the wake was lost", el)
	}
}

func testWakeBeforeWait(t *testing.T, nd NewDriver) {
	h := start(t, nd)
	fatalIf(t, h.d.Wake(), "Wake")
	done := make(chan struct{})
	guard := time.AfterFunc(deadline, func() {
		select {
		case <-done:
		default:
			t.Errorf("a Wake before Wait was lost")
			_ = h.d.Wake()
		}
	})
	defer guard.Stop()
	if _, err := h.d.Wait(-1); err != nil {
		t.Fatal(err)
	}
	close(done)
}

// testWakeStress is the lost-wakeup proof: many goroutines publish items and call Wake;
// the loop blocks without a timeout whenever it has seen every item published so far.
// One lost wakeup leaves the loop blocked, and the guard fails the scenario.
func testWakeStress(t *testing.T, nd NewDriver) {
	h := start(t, nd)
	const posters, each = 8, 2000
	var mu sync.Mutex
	var queue []int
	var wg sync.WaitGroup
	for p := 0; p < posters; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				mu.Lock()
				queue = append(queue, i)
				mu.Unlock()
				if err := h.d.Wake(); err != nil {
					t.Errorf("Wake: %v", err)
					return
				}
				if i%64 == 0 {
					runtime.Gosched()
				}
			}
		}()
	}
	var lost atomic.Bool
	guard := time.AfterFunc(deadline, func() { lost.Store(true); _ = h.d.Wake() })
	defer guard.Stop()
	seen := 0
	for seen < posters*each && !lost.Load() {
		mu.Lock()
		seen += len(queue)
		queue = queue[:0]
		mu.Unlock()
		if seen < posters*each {
			if _, err := h.d.Wait(-1); err != nil {
				t.Fatal(err)
			}
		}
	}
	wg.Wait()
	if lost.Load() {
		t.Fatalf("lost wakeup: saw %d of %d posts", seen, posters*each)
	}
}

func testWaitReentrant(t *testing.T, nd NewDriver) {
	h := start(t, nd)
	var inner error
	r := newRec(t, poller.Op{Code: poller.OpNop})
	r.op.Done = func(op *poller.Op) {
		_, inner = h.d.Wait(0)
		r.done(op)
	}
	h.run(r)
	if !errors.Is(inner, poller.ErrReentrant) {
		t.Fatalf("Wait from Done: %v, want ErrReentrant", inner)
	}
}

func testBadInput(t *testing.T, nd NewDriver) {
	h := start(t, nd)
	noop := func(*poller.Op) {}
	cases := []struct {
		name string
		op   *poller.Op
		want error
	}{
		{"nil op", nil, syscall.EINVAL},
		{"zero opcode", &poller.Op{Done: noop}, syscall.EINVAL},
		{"unknown opcode", &poller.Op{Code: 200, Done: noop}, syscall.EINVAL},
		{"nil Done", &poller.Op{Code: poller.OpNop}, syscall.EINVAL},
		{"read nil buffer", &poller.Op{Code: poller.OpRead, Fd: 0, Done: noop}, syscall.EINVAL},
		{"recv empty buffer", &poller.Op{Code: poller.OpRecv, Buf: []byte{}, Done: noop}, syscall.EINVAL},
		{"readv no buffers", &poller.Op{Code: poller.OpReadv, Bufs: [][]byte{nil}, Done: noop}, syscall.EINVAL},
		{"multishot nop", &poller.Op{Code: poller.OpNop, Flags: poller.FlagMultishot, Done: noop}, syscall.EINVAL},
		{"unknown flag", &poller.Op{Code: poller.OpNop, Flags: 1 << 15, Done: noop}, syscall.EINVAL},
		{"multishot recv without group", &poller.Op{Code: poller.OpRecv, Flags: poller.FlagMultishot, Buf: make([]byte, 8), Done: noop}, syscall.EINVAL},
		{"negative offset", &poller.Op{Code: poller.OpRead, Buf: make([]byte, 8), Offset: -5, Done: noop}, syscall.EINVAL},
		{"negative timeout", &poller.Op{Code: poller.OpTimeout, Timeout: -1, Done: noop}, syscall.EINVAL},
		{"path with NUL", &poller.Op{Code: poller.OpOpenat, Path: "a\x00b", Done: noop}, syscall.EINVAL},
		{"statx small buffer", &poller.Op{Code: poller.OpStatx, Path: ".", Buf: make([]byte, 16), Done: noop}, syscall.EINVAL},
		{"connect without address", &poller.Op{Code: poller.OpConnect, Done: noop}, syscall.EINVAL},
	}
	for _, c := range cases {
		err := h.d.Submit(c.op)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: Submit returned %v, want %v", c.name, err, c.want)
		}
	}
	// Resubmitting an op in flight is refused, and the op still completes once.
	r := newRec(t, poller.Op{Code: poller.OpTimeout, Timeout: time.Hour})
	h.submit(&r.op)
	if err := h.d.Submit(&r.op); !errors.Is(err, poller.ErrInFlight) {
		t.Errorf("double Submit: %v, want ErrInFlight", err)
	}
	fatalIf(t, h.d.Cancel(&r.op), "Cancel")
	h.until("cancelled timer", r.isFinal)
	wantErrno(t, "cancelled timer", r.only(), syscall.ECANCELED)
	// Unsupported capabilities are refused with errors.ErrUnsupported.
	if !h.features().Has(poller.FeatSendZC) {
		err := h.d.Submit(&poller.Op{Code: poller.OpSendZC, Buf: []byte("x"), Done: noop})
		if !errors.Is(err, errors.ErrUnsupported) {
			t.Errorf("OpSendZC without FeatSendZC: %v, want ErrUnsupported", err)
		}
	}
	if !h.features().Has(poller.FeatFixedFiles) {
		err := h.d.Submit(&poller.Op{Code: poller.OpNop, Flags: poller.FlagFixedFile, Done: noop})
		if !errors.Is(err, errors.ErrUnsupported) {
			t.Errorf("FlagFixedFile without FeatFixedFiles: %v, want ErrUnsupported", err)
		}
	}
}

func testCloseCancels(t *testing.T, nd NewDriver) {
	h := start(t, nd)
	// A Done that runs inside Close and submits again (znet's connection does, for a
	// close the driver cancelled) is refused with ErrClosed: the submission never
	// completes, and the caller learns that it must finish the work itself.
	var again *poller.Op
	var againErr error
	againDone := false
	var recs []*rec
	for i := 0; i < 16; i++ {
		r := newRec(t, poller.Op{Code: poller.OpTimeout, Timeout: time.Hour})
		if i == 0 {
			inner := r.op.Done
			r.op.Done = func(op *poller.Op) {
				inner(op)
				again = &poller.Op{Code: poller.OpNop, Done: func(*poller.Op) { againDone = true }}
				againErr = h.d.Submit(again)
			}
		}
		h.submit(&r.op)
		recs = append(recs, r)
	}
	h.quiet(2*time.Millisecond, recs...)
	h.close()
	for i, r := range recs {
		if !r.final {
			t.Fatalf("op %d did not complete inside Close", i)
		}
		wantErrno(t, "op at Close", r.only(), syscall.ECANCELED)
	}
	if again == nil {
		t.Fatal("the first op's Done did not run")
	}
	if !errors.Is(againErr, poller.ErrClosed) {
		t.Errorf("Submit from a Done inside Close: %v, want ErrClosed", againErr)
	}
	if againDone || again.InFlight() {
		t.Error("an op submitted from a Done inside Close completed or is in flight")
	}
}

func testSubmitAfterClose(t *testing.T, nd NewDriver) {
	h := start(t, nd)
	h.close()
	err := h.d.Submit(&poller.Op{Code: poller.OpNop, Done: func(*poller.Op) { t.Error("completed after Close") }})
	if !errors.Is(err, poller.ErrClosed) || !errors.Is(err, net.ErrClosed) || !errors.Is(err, os.ErrClosed) {
		t.Fatalf("Submit after Close: %v, want ErrClosed matching net.ErrClosed and os.ErrClosed", err)
	}
	if _, err := h.d.Wait(0); !errors.Is(err, poller.ErrClosed) {
		t.Fatalf("Wait after Close: %v, want ErrClosed", err)
	}
	if err := h.d.Close(); !errors.Is(err, poller.ErrClosed) {
		t.Fatalf("second Close: %v, want ErrClosed", err)
	}
}

// testCustodyUnderGC drops every reference to in-flight ops but the driver's own, forces
// collections, and checks the ops still complete intact (docs/RELIABILITY.md trap 1).
func testCustodyUnderGC(t *testing.T, nd NewDriver) {
	h := start(t, nd)
	const n = 256
	got := 0
	for i := 0; i < n; i++ {
		op := &poller.Op{Code: poller.OpTimeout, Timeout: time.Duration(1+i%5) * time.Millisecond,
			Buf: make([]byte, 4096), Offset: int64(i)}
		for j := range op.Buf {
			op.Buf[j] = byte(i)
		}
		op.Done = func(o *poller.Op) {
			for _, b := range o.Buf {
				if b != byte(o.Offset) {
					t.Errorf("op %d: buffer corrupted while in flight", o.Offset)
					break
				}
			}
			got++
		}
		h.submit(op)
	}
	for i := 0; i < 3; i++ {
		runtime.GC()
		_ = make([]byte, 1<<20) // churn the heap so freed memory gets reused
	}
	h.until("all ops after GC", func() bool { return got == n })
}

package uring

import (
	"errors"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestNewAndClose(t *testing.T) {
	checkLeaks(t)
	r, err := New(Config{Entries: 8})
	if err != nil {
		t.Fatal(err)
	}
	if r.Fd() < 0 || r.SQEntries() != 8 || r.CQEntries() != 16 {
		t.Fatalf("fd %d, SQ %d, CQ %d", r.Fd(), r.SQEntries(), r.CQEntries())
	}
	if r.Features()&(FeatSingleMmap|FeatNoDrop|FeatExtArg) != FeatSingleMmap|FeatNoDrop|FeatExtArg {
		t.Fatalf("features %#x lack SINGLE_MMAP|NODROP|EXT_ARG", r.Features())
	}
	if p := r.Params(); p.SQEntries != 8 || p.Features != r.Features() || p.SQOff.Array == 0 {
		t.Fatalf("params %+v", p)
	}
	if r.SQDropped() != 0 || r.CQOverflow() != 0 || r.SQFlags() != 0 {
		t.Fatalf("fresh ring: dropped %d overflow %d flags %#x", r.SQDropped(), r.CQOverflow(), r.SQFlags())
	}
	// Without SQPOLL, WaitSQSpace is Submit.
	sqe(t, r).PrepNop()
	if err := r.WaitSQSpace(); err != nil || r.SQSpace() != 8 {
		t.Fatalf("WaitSQSpace: %v, space %d", err, r.SQSpace())
	}
	reap(t, r, 1)
	if err := r.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if r.Fd() != -1 || r.NextSQE() != nil || r.CQReady() != 0 || r.PeekCQEs(make([]CQE, 1)) != 0 ||
		r.SQSpace() != 0 || r.Pending() != 0 || r.SQFlags() != 0 || r.SQDropped() != 0 || r.CQOverflow() != 0 {
		t.Fatal("closed ring still usable")
	}
	if _, err := r.Submit(); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("Submit after Close: %v", err)
	}
	if _, err := r.SubmitAndWait(1, time.Second); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("SubmitAndWait after Close: %v", err)
	}
	if _, err := r.Probe(); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("Probe after Close: %v", err)
	}
}

func TestNewErrors(t *testing.T) {
	checkLeaks(t)
	_, err := New(Config{Entries: 0})
	var se *os.SyscallError
	if !errors.As(err, &se) || se.Syscall != "io_uring_setup" || !errors.Is(err, unix.EINVAL) {
		t.Fatalf("New with 0 entries: %v", err)
	}
	if _, err := New(Config{Entries: 8, Flags: SetupSQE128}); !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("New with SQE128: %v", err)
	}
	fk := newFaultKernel(1)
	fk.setupErr = unix.EPERM
	if r, err := New(Config{Entries: 8, kernel: fk}); r != nil || !errors.Is(err, unix.EPERM) {
		t.Fatalf("New with EPERM: %v, %v", r, err)
	}
}

// TestNewUndoesPartialWork fails each mmap in turn: New must close the fd
// and unmap whatever it had mapped.
func TestNewUndoesPartialWork(t *testing.T) {
	checkLeaks(t)
	for at := 1; at <= 2; at++ {
		fk := newFaultKernel(1)
		fk.failMmapAt = at
		r, err := New(Config{Entries: 8, kernel: fk})
		if r != nil || !errors.Is(err, unix.ENOMEM) {
			t.Fatalf("mmap %d failing: New = %v, %v", at, r, err)
		}
		if fk.live != 0 {
			t.Fatalf("mmap %d failing: %d mappings left", at, fk.live)
		}
	}
}

func TestNoSQArray(t *testing.T) {
	r := newRing(t, Config{Entries: 4, Flags: SetupNoSQArray})
	for round := range 3 {
		for i := range 4 {
			s := sqe(t, r)
			s.PrepNop()
			s.SetUserData(uint64(round*4 + i))
		}
		cqes := reap(t, r, 4)
		for i, c := range cqes {
			if c.UserData != uint64(round*4+i) || c.Res != 0 {
				t.Fatalf("round %d: CQE %d is %+v", round, i, c)
			}
		}
	}
}

func TestSQFullAndReserve(t *testing.T) {
	r := newRing(t, Config{Entries: 4})
	for i := range 4 {
		if !r.Reserve(uint32(4 - i)) {
			t.Fatalf("Reserve(%d) false with %d free", 4-i, r.SQSpace())
		}
		sqe(t, r).PrepNop()
	}
	if r.NextSQE() != nil || r.Reserve(1) || r.SQSpace() != 0 || r.Pending() != 4 {
		t.Fatalf("full SQ: space %d pending %d", r.SQSpace(), r.Pending())
	}
	if n, err := r.Submit(); n != 4 || err != nil {
		t.Fatalf("Submit = %d, %v", n, err)
	}
	if r.SQSpace() != 4 || r.Pending() != 0 {
		t.Fatalf("after Submit: space %d pending %d", r.SQSpace(), r.Pending())
	}
	reap(t, r, 4)
}

// TestPeekWraps crosses the end of the CQ array many times.
func TestPeekWraps(t *testing.T) {
	r := newRing(t, Config{Entries: 4, CQEntries: 8})
	next := uint64(0)
	dst := make([]CQE, 8)
	for range 20 {
		for range 3 {
			s := sqe(t, r)
			s.PrepNop()
			s.SetUserData(next)
			next++
		}
		if _, err := r.SubmitAndWait(3, testTimeout); err != nil {
			t.Fatal(err)
		}
		if n := r.PeekCQEs(dst); n != 3 {
			t.Fatalf("PeekCQEs = %d", n)
		}
		for i, c := range dst[:3] {
			if c.UserData != next-3+uint64(i) {
				t.Fatalf("CQE %d out of order: %+v", i, dst[:3])
			}
		}
	}
}

func TestSubmitAndWaitTimeout(t *testing.T) {
	r := newRing(t, Config{Entries: 4})
	start := time.Now()
	n, err := r.SubmitAndWait(1, 20*time.Millisecond)
	if n != 0 || err != unix.ETIME {
		t.Fatalf("SubmitAndWait on an idle ring = %d, %v", n, err)
	}
	if d := time.Since(start); d < 20*time.Millisecond {
		t.Fatalf("returned after %v", d)
	}
	if a := testing.AllocsPerRun(10, func() { r.SubmitAndWait(1, time.Microsecond) }); a != 0 {
		t.Fatalf("timed-out wait allocates %.1f times", a)
	}
	// timeout 0 never waits.
	if n, err := r.SubmitAndWait(1, 0); n != 0 || err != nil {
		t.Fatalf("SubmitAndWait(1, 0) = %d, %v", n, err)
	}
}

func TestNopZeroAllocs(t *testing.T) {
	r := newRing(t, Config{Entries: 32})
	dst := make([]CQE, 32)
	a := testing.AllocsPerRun(100, func() {
		for range 32 {
			r.NextSQE().PrepNop()
		}
		r.SubmitAndWait(32, testTimeout) // the EXT_ARG timeout path must not allocate either
		if r.PeekCQEs(dst) != 32 {
			panic("lost CQEs")
		}
	})
	if a != 0 {
		t.Fatalf("NOP round trip allocates %.1f times", a)
	}
}

// TestTinyCQOverflow pushes 10,000 NOPs through a 2-entry CQ, reaping
// rarely so that completions overflow, and checks that each arrives once.
func TestTinyCQOverflow(t *testing.T) {
	const total = 10000
	r := newRing(t, Config{Entries: 2, CQEntries: 2})
	if r.CQEntries() != 2 {
		t.Fatalf("CQ has %d entries", r.CQEntries())
	}
	seen := make([]bool, total)
	got, next, sawOverflow := 0, 0, false
	dst := make([]CQE, 2)
	deadline := time.Now().Add(testTimeout)
	for round := 0; got < total; round++ {
		if time.Now().After(deadline) {
			t.Fatalf("stuck at %d of %d", got, total)
		}
		for next < total {
			s := r.NextSQE()
			if s == nil {
				break
			}
			s.PrepNop()
			s.SetUserData(uint64(next))
			next++
		}
		if _, err := r.Submit(); err != nil {
			t.Fatalf("Submit: %v", err)
		}
		if r.SQFlags()&SQRingCQOverflow != 0 {
			sawOverflow = true
		}
		if round%64 != 0 && next < total {
			continue
		}
		for n := r.PeekCQEs(dst); n > 0; n = r.PeekCQEs(dst) {
			for _, c := range dst[:n] {
				if c.UserData >= total || seen[c.UserData] || c.Res != 0 {
					t.Fatalf("bad or duplicate CQE %+v", c)
				}
				seen[c.UserData] = true
				got++
			}
		}
	}
	if !sawOverflow {
		t.Fatal("CQ overflow never happened")
	}
	if d := r.CQOverflow(); d != 0 {
		t.Fatalf("kernel dropped %d CQEs", d)
	}
	st := r.Stats()
	if st.OverflowFlushes == 0 || st.Completions != total {
		t.Fatalf("stats %+v", st)
	}
	noMoreCQEs(t, r)
}

// TestSubmitStopsAtBadSQE shows the kernel's short submit: it consumes an
// SQE that fails to start, posts its error, and stops there unless the ring
// has SetupSubmitAll.
func TestSubmitStopsAtBadSQE(t *testing.T) {
	for _, all := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "submit_all"}[all], func(t *testing.T) {
			cfg := Config{Entries: 4}
			if all {
				cfg.Flags = SetupSubmitAll
			}
			r := newRing(t, cfg)
			for i := range 3 {
				s := sqe(t, r)
				s.PrepNop()
				s.SetUserData(uint64(i))
				if i == 1 {
					s.Opcode = opLast + 10 // no such operation
				}
			}
			n, err := r.Submit()
			want := map[bool]int{false: 2, true: 3}[all]
			if n != want || err != nil || r.Pending() != uint32(3-want) {
				t.Fatalf("Submit = %d, %v; %d pending", n, err, r.Pending())
			}
			got := byUserData(t, reap(t, r, 3))
			wantRes(t, got[1], errnoRes(unix.EINVAL))
			wantRes(t, got[0], 0)
			wantRes(t, got[2], 0)
		})
	}
}

// TestSubmitAndWaitBatch checks the min-wait semantics the runtime's BatchWait relies
// on: with fewer completions than asked, the wait ends once the min-wait has passed and
// one is ready (not at the timeout); with enough, at once; with one already ready, it
// does not sleep; and it allocates nothing.
func TestSubmitAndWaitBatch(t *testing.T) {
	r := newRing(t, Config{Entries: 16})
	if r.Features()&FeatMinTimeout == 0 {
		t.Skip("the kernel has no min-wait (IORING_FEAT_MIN_TIMEOUT, Linux 6.12)")
	}
	dst := make([]CQE, 16)
	var keep []*Timespec
	timer := func(d time.Duration) {
		ts := NewTimespec(d)
		s := r.NextSQE()
		s.PrepTimeout(&ts, 0, 0)
		s.SetUserData(7)
		if _, err := r.Submit(); err != nil {
			t.Fatal(err)
		}
		keep = append(keep, &ts) // the kernel reads ts until the timer fires
	}
	for _, timeout := range []time.Duration{5 * time.Second, -1} {
		timer(5 * time.Millisecond)
		start := time.Now()
		if _, err := r.SubmitAndWaitBatch(8, 20*time.Millisecond, timeout); err != nil {
			t.Fatalf("timeout %v: %v", timeout, err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("timeout %v: one completion and a passed min-wait took %v: the wait held out for 8", timeout, d)
		}
		if n := r.PeekCQEs(dst); n != 1 || dst[0].UserData != 7 {
			t.Fatalf("timeout %v: %d CQEs %+v, want the timer's", timeout, n, dst[:n])
		}
	}
	for range 8 {
		r.NextSQE().PrepNop()
	}
	if _, err := r.SubmitAndWaitBatch(8, time.Second, 5*time.Second); err != nil || r.CQReady() != 8 {
		t.Fatalf("8 NOPs: %v, %d ready", err, r.CQReady())
	}
	start := time.Now()
	if _, err := r.SubmitAndWaitBatch(16, time.Second, 5*time.Second); err != nil || time.Since(start) > 500*time.Millisecond {
		t.Fatalf("with CQEs ready: %v after %v, want no wait", err, time.Since(start))
	}
	if n := r.PeekCQEs(dst); n != 8 {
		t.Fatalf("%d CQEs for 8 NOPs", n)
	}
	if a := testing.AllocsPerRun(10, func() {
		r.NextSQE().PrepNop()
		r.SubmitAndWaitBatch(4, time.Microsecond, time.Second)
		r.PeekCQEs(dst)
	}); a != 0 {
		t.Fatalf("batched wait allocates %.1f times", a)
	}
}

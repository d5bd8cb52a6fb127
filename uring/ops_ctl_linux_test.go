package uring

import (
	"math/rand"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestOpPollAdd(t *testing.T) {
	r := newRing(t, Config{Entries: 4})
	pr, pw := pipe(t)
	s := sqe(t, r)
	s.PrepPollAdd(pr, unix.POLLIN)
	s.SetUserData(1)
	r.Submit()
	unix.Write(pw, []byte("x"))
	c := reapOne(t, r, 1)
	if c.Res&unix.POLLIN == 0 || c.Flags.More() {
		t.Fatalf("poll CQE %+v", c)
	}
}

// TestOpPollMultishot gets two readiness CQEs from one SQE, then removes
// the poll: its last CQE lacks CQEFlagMore.
func TestOpPollMultishot(t *testing.T) {
	r := newRing(t, Config{Entries: 4})
	pr, pw := pipe(t)
	s := sqe(t, r)
	s.PrepPollMultishot(pr, unix.POLLIN)
	s.SetUserData(1)
	r.Submit()
	buf := make([]byte, 1)
	for i := range 2 {
		unix.Write(pw, []byte("x"))
		c := reapOne(t, r, 1)
		if c.Res&unix.POLLIN == 0 || !c.Flags.More() {
			t.Fatalf("event %d: %+v", i, c)
		}
		unix.Read(pr, buf)
	}
	s = sqe(t, r)
	s.PrepPollRemove(1)
	s.SetUserData(2)
	got := byUserData(t, reap(t, r, 2))
	wantRes(t, got[2], 0)
	if c := got[1]; c.Res != errnoRes(unix.ECANCELED) || c.Flags.More() {
		t.Fatalf("final poll CQE %+v", c)
	}
}

func TestOpTimeout(t *testing.T) {
	r := newRing(t, Config{Entries: 4})
	ts := NewTimespec(10 * time.Millisecond)
	start := time.Now()
	s := sqe(t, r)
	s.PrepTimeout(&ts, 0, 0) // count 0: a pure timer
	s.SetUserData(1)
	wantRes(t, reapOne(t, r, 1), errnoRes(unix.ETIME))
	if d := time.Since(start); d < 10*time.Millisecond {
		t.Fatalf("timeout fired after %v", d)
	}
	// count 1: any other completion fires it, with 0.
	long := NewTimespec(testTimeout)
	s = sqe(t, r)
	s.PrepTimeout(&long, 1, 0)
	s.SetUserData(2)
	s = sqe(t, r)
	s.PrepNop()
	s.SetUserData(3)
	got := byUserData(t, reap(t, r, 2))
	wantRes(t, got[2], 0)
	runtime.KeepAlive(&ts)
	runtime.KeepAlive(&long)
}

func TestOpTimeoutRemove(t *testing.T) {
	r := newRing(t, Config{Entries: 4})
	ts := NewTimespec(testTimeout)
	s := sqe(t, r)
	s.PrepTimeout(&ts, 0, 0)
	s.SetUserData(1)
	r.Submit()
	s = sqe(t, r)
	s.PrepTimeoutRemove(1, 0)
	s.SetUserData(2)
	got := byUserData(t, reap(t, r, 2))
	wantRes(t, got[2], 0)
	wantRes(t, got[1], errnoRes(unix.ECANCELED))
	s = sqe(t, r)
	s.PrepTimeoutRemove(1, 0)
	s.SetUserData(3)
	wantRes(t, reapOne(t, r, 3), errnoRes(unix.ENOENT))
	runtime.KeepAlive(&ts)
}

// TestOpLinkTimeout bounds a recv that never gets data, and a NOP that
// completes at once.
func TestOpLinkTimeout(t *testing.T) {
	r := newRing(t, Config{Entries: 4})
	a, _ := socketPair(t, unix.SOCK_STREAM)
	buf := make([]byte, 8)
	ts := NewTimespec(10 * time.Millisecond)
	s := sqe(t, r)
	s.PrepRecv(a, buf, 0)
	s.SetFlags(SQEIOLink)
	s.SetUserData(1)
	s = sqe(t, r)
	s.PrepLinkTimeout(&ts, 0)
	s.SetUserData(2)
	got := byUserData(t, reap(t, r, 2))
	wantRes(t, got[1], errnoRes(unix.ECANCELED))
	wantRes(t, got[2], errnoRes(unix.ETIME))

	s = sqe(t, r)
	s.PrepNop()
	s.SetFlags(SQEIOLink)
	s.SetUserData(3)
	s = sqe(t, r)
	s.PrepLinkTimeout(&ts, 0)
	s.SetUserData(4)
	got = byUserData(t, reap(t, r, 2))
	wantRes(t, got[3], 0)
	wantRes(t, got[4], errnoRes(unix.ECANCELED))
	runtime.KeepAlive(&ts)
	runtime.KeepAlive(buf)
}

func TestOpCancelByUserData(t *testing.T) {
	r := newRing(t, Config{Entries: 4})
	a, _ := socketPair(t, unix.SOCK_STREAM)
	buf := make([]byte, 8)
	s := sqe(t, r)
	s.PrepRecv(a, buf, 0)
	s.SetUserData(1)
	r.Submit()
	s = sqe(t, r)
	s.PrepCancel(1, 0)
	s.SetUserData(2)
	got := byUserData(t, reap(t, r, 2))
	wantRes(t, got[2], 0)
	wantRes(t, got[1], errnoRes(unix.ECANCELED))
	s = sqe(t, r)
	s.PrepCancel(1, 0)
	s.SetUserData(3)
	wantRes(t, reapOne(t, r, 3), errnoRes(unix.ENOENT))
	runtime.KeepAlive(buf)
}

func TestOpCancelFdAndAll(t *testing.T) {
	r := newRing(t, Config{Entries: 8})
	a, _ := socketPair(t, unix.SOCK_STREAM)
	c, _ := socketPair(t, unix.SOCK_STREAM)
	buf := make([]byte, 32)
	for i, fd := range []int{a, a, c} {
		s := sqe(t, r)
		s.PrepRecv(fd, buf[i*8:i*8+8], 0)
		s.SetUserData(uint64(i + 1))
	}
	r.Submit()
	s := sqe(t, r)
	s.PrepCancelFd(a, CancelAll)
	s.SetUserData(10)
	got := byUserData(t, reap(t, r, 3))
	wantRes(t, got[10], 2)
	wantRes(t, got[1], errnoRes(unix.ECANCELED))
	wantRes(t, got[2], errnoRes(unix.ECANCELED))
	// CancelAny|CancelAll matches every request left.
	s = sqe(t, r)
	s.PrepCancel(0, CancelAny|CancelAll)
	s.SetUserData(11)
	got = byUserData(t, reap(t, r, 2))
	wantRes(t, got[11], 1)
	wantRes(t, got[3], errnoRes(unix.ECANCELED))
	runtime.KeepAlive(buf)
}

// TestCancelRace cancels operations that are completing at the same moment,
// thousands of times: timers about to fire, receives whose data is being
// written, and fsyncs running in the async workers. Either way the target
// completes exactly once: with -ECANCELED when the cancel says 0, with its
// own result when the cancel says -ENOENT, and with either when it says
// -EALREADY (the request was running).
func TestCancelRace(t *testing.T) {
	r := newRing(t, Config{Entries: 8})
	a, b := socketPair(t, unix.SOCK_STREAM)
	f := tempFile(t, []byte("sync me"))
	rng := rand.New(rand.NewSource(7))
	buf := make([]byte, 8)
	ts := new(Timespec)
	outcomes := map[int32]int{}
	const rounds = 3000
	for i := range rounds {
		target, cancel := uint64(2*i+1), uint64(2*i+2)
		kind := i % 3
		s := sqe(t, r)
		switch kind {
		case 0:
			*ts = NewTimespec(time.Duration(rng.Intn(30)) * time.Microsecond)
			s.PrepTimeout(ts, 0, 0)
		case 1:
			s.PrepRecv(a, buf, 0)
			unix.Write(b, []byte("x")) // the data races the cancel
		case 2:
			s.PrepFsync(int(f.Fd()), 0)
			s.SetFlags(SQEAsync) // runs in an io-wq worker
		}
		s.SetUserData(target)
		if rng.Intn(2) == 0 {
			r.Submit() // sometimes let the target start first
		}
		s = sqe(t, r)
		s.PrepCancel(target, 0)
		s.SetUserData(cancel)
		got := byUserData(t, reap(t, r, 2))
		tc, cc := got[target], got[cancel]
		outcomes[cc.Res]++
		checkRace(t, i, kind, tc, cc)
		if kind == 1 && tc.Res != 1 {
			// The recv was cancelled: take its byte out of the socket so
			// the next round starts empty.
			if n, _ := unix.Read(a, buf); n != 1 {
				t.Fatalf("round %d: drained %d bytes", i, n)
			}
		}
	}
	noMoreCQEs(t, r)
	t.Logf("cancel results over %d rounds: %v", rounds, outcomes)
	runtime.KeepAlive(ts)
	runtime.KeepAlive(buf)
}

// checkRace checks one round of TestCancelRace.
func checkRace(t *testing.T, round, kind int, target, cancel CQE) {
	t.Helper()
	own := []int32{errnoRes(unix.ETIME), 1, 0}[kind] // the target's result when not cancelled
	switch cancel.Res {
	case 0:
		if target.Res != errnoRes(unix.ECANCELED) {
			t.Fatalf("round %d: cancelled target ended with %d", round, target.Res)
		}
	case errnoRes(unix.ENOENT), errnoRes(unix.EALREADY):
		if target.Res != own && target.Res != errnoRes(unix.ECANCELED) {
			t.Fatalf("round %d: target ended with %d, cancel with %d", round, target.Res, cancel.Res)
		}
	default:
		t.Fatalf("round %d: cancel returned %d", round, cancel.Res)
	}
}

// TestOpMsgRing posts a CQE on another ring.
func TestOpMsgRing(t *testing.T) {
	src := newRing(t, Config{Entries: 4})
	dst := newRing(t, Config{Entries: 4})
	requireOps(t, src, OpMsgRing)
	s := sqe(t, src)
	s.PrepMsgRing(dst.Fd(), 42, 0xfeed, 0)
	s.SetUserData(1)
	wantRes(t, reapOne(t, src, 1), 0)
	wantRes(t, reapOne(t, dst, 0xfeed), 42)
}

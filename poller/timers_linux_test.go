package poller

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// OpTimeout, Op.Timeout and Wait's own timeout.

func TestEpollTimeoutOp(t *testing.T) {
	d := newTestEpoll(t, EpollConfig{})
	var order []time.Duration
	start := time.Now()
	var recs []*record
	for _, dur := range []time.Duration{30, 10, 20} {
		dur *= time.Millisecond
		r := newRecord(Op{Code: OpTimeout, Timeout: dur})
		inner := r.op.Done
		r.op.Done = func(op *Op) {
			if time.Since(start) < dur {
				t.Errorf("%v timer fired after %v", dur, time.Since(start))
			}
			order = append(order, dur)
			inner(op)
		}
		submit(t, d, &r.op)
		recs = append(recs, r)
	}
	waitUntil(t, d, "timers", func() bool { return len(order) == 3 })
	if order[0] != 10*time.Millisecond || order[1] != 20*time.Millisecond || order[2] != 30*time.Millisecond {
		t.Fatalf("fired in order %v", order)
	}
	for _, r := range recs {
		if r.res(t) != errnoRes(unix.ETIME) {
			t.Fatalf("timeout = %d, want ETIME", r.res(t))
		}
	}
	if res := run(t, d, newRecord(Op{Code: OpTimeout})); res != errnoRes(unix.ETIME) {
		t.Fatalf("zero timeout = %d", res)
	}
}

func TestEpollTimeoutCancel(t *testing.T) {
	d := newTestEpoll(t, EpollConfig{})
	r := newRecord(Op{Code: OpTimeout, Timeout: 5 * time.Millisecond})
	submit(t, d, &r.op)
	d.Cancel(&r.op)
	waitUntil(t, d, "cancelled timer", r.final)
	if r.res(t) != errnoRes(unix.ECANCELED) || d.timers.len() != 0 {
		t.Fatalf("timer = %d, %d still armed", r.res(t), d.timers.len())
	}
	if n, _ := d.Wait(20 * time.Millisecond); n != 0 || len(r.got) != 1 {
		t.Fatalf("cancelled timer fired later: %+v", r.got)
	}
}

func TestEpollOpDeadline(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg EpollConfig) {
		d := newTestEpoll(t, cfg)
		a, b := socketpair(t)
		start := time.Now()
		late := newRecord(Op{Code: OpRecv, Fd: a, Buf: make([]byte, 1), Timeout: 10 * time.Millisecond})
		if res := run(t, d, late); res != errnoRes(unix.ETIME) || time.Since(start) < 10*time.Millisecond {
			t.Fatalf("recv with an expired deadline = %d after %v", res, time.Since(start))
		}
		// The real result wins when it comes first, and the timer goes away.
		early := newRecord(Op{Code: OpRecv, Fd: a, Buf: make([]byte, 1), Timeout: time.Hour})
		submit(t, d, &early.op)
		unix.Write(b, []byte("x"))
		waitUntil(t, d, "recv", early.final)
		if early.res(t) != 1 || d.timers.len() != 0 {
			t.Fatalf("recv = %d with %d timers armed", early.res(t), d.timers.len())
		}
		// An op that completes inline arms no timer at all.
		inline := newRecord(Op{Code: OpSend, Fd: b, Buf: []byte("y"), Timeout: time.Hour})
		if res := run(t, d, inline); res != 1 || d.timers.len() != 0 {
			t.Fatalf("send = %d with %d timers armed", res, d.timers.len())
		}
	})
}

// A file op queued behind a busy worker times out; the running one is left alone.
func TestEpollFileOpDeadline(t *testing.T) {
	d := newTestEpoll(t, EpollConfig{Workers: 1})
	opener, unblock := blockedWorker(t, d, -1)
	waitRunning(t, d, &opener.op)
	fd, _ := tempFile(t, "x")
	queued := newRecord(Op{Code: OpFsync, Fd: fd, Timeout: 5 * time.Millisecond})
	if res := run(t, d, queued); res != errnoRes(unix.ETIME) {
		t.Fatalf("queued fsync = %d, want ETIME", res)
	}
	unblock()
	waitUntil(t, d, "openat", opener.final)
	if res := opener.res(t); res >= 0 {
		unix.Close(int(res))
	}
}

func TestEpollWaitTimeout(t *testing.T) {
	d := newTestEpoll(t, EpollConfig{})
	start := time.Now()
	n, err := d.Wait(15 * time.Millisecond)
	if err != nil || n != 0 {
		t.Fatalf("Wait = %d, %v", n, err)
	}
	if el := time.Since(start); el < 15*time.Millisecond || el > 5*time.Second {
		t.Fatalf("Wait(15ms) returned after %v", el)
	}
	// The nearest timer bounds an unlimited Wait.
	r := newRecord(Op{Code: OpTimeout, Timeout: 5 * time.Millisecond})
	submit(t, d, &r.op)
	if n, err := d.Wait(-1); n != 1 || err != nil || !r.final() {
		t.Fatalf("Wait(-1) = %d, %v with a timer due", n, err)
	}
}

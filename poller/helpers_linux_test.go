package poller

import (
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Helpers for the epoll driver's own tests. Every wait is bounded by testDeadline.

const testDeadline = 10 * time.Second

func newTestEpoll(t testing.TB, cfg EpollConfig) *Epoll {
	t.Helper()
	d, err := NewEpoll(cfg)
	if err != nil {
		t.Fatalf("NewEpoll: %v", err)
	}
	t.Cleanup(func() { _ = d.Close() })
	return d
}

// record is an op that keeps every completion it gets.
type record struct {
	op   Op
	got  []Op // copies of the op at each completion (Res, Result, BufID, MsgFlags, Len)
	last bool
}

func newRecord(op Op) *record {
	r := &record{op: op}
	r.op.Done = func(op *Op) {
		c := *op
		c.Done = nil
		r.got = append(r.got, c)
		if op.Result&ResMore == 0 {
			r.last = true
		}
	}
	return r
}

func (r *record) final() bool { return r.last }

func (r *record) res(t testing.TB) int32 {
	t.Helper()
	if len(r.got) != 1 {
		t.Fatalf("%v: %d completions, want 1: %+v", r.op.Code, len(r.got), r.got)
	}
	return r.got[0].Res
}

func submit(t testing.TB, d Driver, op *Op) {
	t.Helper()
	if err := d.Submit(op); err != nil {
		t.Fatalf("Submit(%v): %v", op.Code, err)
	}
}

// waitUntil calls Wait until cond holds, failing after testDeadline.
func waitUntil(t testing.TB, d Driver, what string, cond func() bool) {
	t.Helper()
	end := time.Now().Add(testDeadline)
	for !cond() {
		left := time.Until(end)
		if left <= 0 {
			t.Fatalf("timed out waiting for %s", what)
		}
		if _, err := d.Wait(left); err != nil {
			t.Fatalf("Wait: %v", err)
		}
	}
}

func run(t testing.TB, d Driver, r *record) int32 {
	t.Helper()
	submit(t, d, &r.op)
	waitUntil(t, d, r.op.Code.String(), r.final)
	return r.res(t)
}

func closeOnCleanup(t testing.TB, fds ...int) {
	t.Cleanup(func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	})
}

func socketpair(t testing.TB) (int, int) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	closeOnCleanup(t, fds[0], fds[1])
	return fds[0], fds[1]
}

func pipe(t testing.TB) (r, w int) {
	t.Helper()
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	closeOnCleanup(t, p[0], p[1])
	return p[0], p[1]
}

// openFDs counts this process's open descriptors.
func openFDs(t testing.TB) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

func errnoRes(e unix.Errno) int32 { return -int32(e) }

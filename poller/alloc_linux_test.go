package poller

import (
	"testing"
	"time"
)

// Steady-state hot paths allocate nothing (DESIGN.md memory invariant 4).

func TestEpollRoundTripNoAllocs(t *testing.T) {
	d := newTestEpoll(t, EpollConfig{})
	x, y := socketpair(t)
	pp := newPingPong(d, x, y)
	pp.round(t) // warm up: registration, slot and queue growth
	if a := testing.AllocsPerRun(200, func() { pp.round(t) }); a != 0 {
		t.Fatalf("recv/send round trip: %v allocations, want 0", a)
	}
}

func TestEpollTimerArmNoAllocs(t *testing.T) {
	d := newTestEpoll(t, EpollConfig{})
	fired := 0
	timer := &Op{Code: OpTimeout, Timeout: time.Hour, Done: func(*Op) { fired++ }}
	cycle := func() {
		if err := d.Submit(timer); err != nil {
			t.Fatal(err)
		}
		if err := d.Cancel(timer); err != nil {
			t.Fatal(err)
		}
		if _, err := d.Wait(time.Second); err != nil {
			t.Fatal(err)
		}
	}
	cycle()
	if a := testing.AllocsPerRun(200, cycle); a != 0 {
		t.Fatalf("timer arm and cancel: %v allocations, want 0", a)
	}
	deadline := &Op{Code: OpRecv, Buf: make([]byte, 1), Timeout: time.Hour, Done: func(*Op) { fired++ }}
	x, _ := socketpair(t)
	deadline.Fd = x
	withDeadline := func() {
		if err := d.Submit(deadline); err != nil {
			t.Fatal(err)
		}
		d.Cancel(deadline)
		if _, err := d.Wait(time.Second); err != nil {
			t.Fatal(err)
		}
	}
	withDeadline()
	if a := testing.AllocsPerRun(200, withDeadline); a != 0 {
		t.Fatalf("op with a deadline: %v allocations, want 0", a)
	}
}

func TestEpollFileReadNoAllocs(t *testing.T) {
	d := newTestEpoll(t, EpollConfig{})
	fd, _ := tempFile(t, "0123456789")
	done := false
	op := &Op{Code: OpRead, Fd: fd, Buf: make([]byte, 4), Offset: 2, Done: func(*Op) { done = true }}
	read := func() {
		done = false
		if err := d.Submit(op); err != nil {
			t.Fatal(err)
		}
		for !done {
			if _, err := d.Wait(time.Second); err != nil {
				t.Fatal(err)
			}
		}
	}
	read()
	if a := testing.AllocsPerRun(200, read); a != 0 {
		t.Fatalf("file read: %v allocations, want 0", a)
	}
}

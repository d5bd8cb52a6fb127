package uring

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/zokio/zokio/poller"
)

// TestDriverSubmitNow checks that FlagSubmitNow hands SQEs to the kernel inside
// Submit: right after it returns, nothing waits in the SQ (the kernel consumed it, in
// exactly one enter) and a NOP's completion is already in the CQ, with no Wait in
// between. Without the flag the SQE waits for the next Wait. With an SQ thread the
// SQE is published to it (the thread consumes it on its own time).
func TestDriverSubmitNow(t *testing.T) {
	for _, c := range driverConfigs {
		if c.name == "tiny-cq" {
			continue // a 4-entry ring: the queue-full path, which TestDriverSubmitNowQueueFull covers
		}
		t.Run(c.name, func(t *testing.T) {
			if c.locked {
				lockThread(t)
			}
			d := newDriver(t, c.cfg)
			sqpoll := d.ring.Flags()&SetupSQPoll != 0
			if _, err := d.Wait(0); err != nil { // flush the wake read armed at setup
				t.Fatal(err)
			}
			done := 0
			nop := func(f poller.OpFlags) *poller.Op {
				return &poller.Op{Code: poller.OpNop, Flags: f, Done: func(*poller.Op) { done++ }}
			}
			e0 := d.Stats().Enters
			if err := d.Submit(nop(0)); err != nil {
				t.Fatal(err)
			}
			if d.ring.sq.pub == d.ring.sq.tail || d.Stats().Enters != e0 {
				t.Fatalf("a plain Submit published its SQE (pub %d, tail %d) or entered (%d enters)",
					d.ring.sq.pub, d.ring.sq.tail, d.Stats().Enters-e0)
			}
			// The flagged op takes the plain one before it along.
			if err := d.Submit(nop(poller.FlagSubmitNow)); err != nil {
				t.Fatal(err)
			}
			// Our own last store to the shared SQ tail, read back.
			if pub := d.ring.sq.ktail.Load(); pub != d.ring.sq.tail {
				t.Fatalf("SubmitNow left SQEs unpublished: ktail %d, tail %d", pub, d.ring.sq.tail)
			}
			if !sqpoll {
				if p := d.ring.Pending(); p != 0 {
					t.Fatalf("SubmitNow left %d SQEs in the SQ", p)
				}
				if n := d.Stats().Enters - e0; n != 1 {
					t.Fatalf("SubmitNow made %d enters, want 1", n)
				}
				if r := d.ring.CQReady(); r < 2 {
					t.Fatalf("%d NOP completions in the CQ right after SubmitNow, want 2", r)
				}
			}
			waitFor(t, d, "both NOPs", func() bool { return done == 2 })
		})
	}
}

// TestDriverSubmitNowChain flags the first op of a write+fsync chain: nothing goes out
// while the chain is open (a chain is never split), and the whole chain goes out in
// one enter at the Submit of its last op, which carries no flag.
func TestDriverSubmitNowChain(t *testing.T) {
	d := newDriver(t, DriverConfig{})
	if _, err := d.Wait(0); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(t.TempDir(), "chain"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var order []poller.Opcode
	done := func(op *poller.Op) { order = append(order, op.Code) }
	w := &poller.Op{Code: poller.OpWrite, Fd: int(f.Fd()), Buf: []byte("now"), Flags: poller.FlagLink | poller.FlagSubmitNow, Done: done}
	s := &poller.Op{Code: poller.OpFsync, Fd: int(f.Fd()), Done: done}
	e0 := d.Stats().Enters
	if err := d.Submit(w); err != nil {
		t.Fatal(err)
	}
	if d.Stats().Enters != e0 || d.ring.sq.tail != d.ring.sq.pub || len(d.pend) != 1 {
		t.Fatalf("an open chain went out: %d enters, %d SQEs prepared, %d pending",
			d.Stats().Enters-e0, d.ring.sq.tail-d.ring.sq.pub, len(d.pend))
	}
	if err := d.Submit(s); err != nil {
		t.Fatal(err)
	}
	if n, p := d.Stats().Enters-e0, d.ring.Pending(); n != 1 || p != 0 {
		t.Fatalf("closing a flagged chain: %d enters, %d SQEs left, want 1 and 0", n, p)
	}
	waitFor(t, d, "the chain", func() bool { return len(order) == 2 })
	if order[0] != poller.OpWrite || w.Res != 3 || s.Res != 0 {
		t.Fatalf("chain: order %v, write %d, fsync %d", order, w.Res, s.Res)
	}
	// The flag does not outlive its chain: a later plain op waits for Wait again.
	n := &poller.Op{Code: poller.OpNop, Done: done}
	e1 := d.Stats().Enters
	if err := d.Submit(n); err != nil {
		t.Fatal(err)
	}
	if d.Stats().Enters != e1 || d.ring.sq.tail == d.ring.sq.pub {
		t.Fatal("a plain op after a flagged chain went out in Submit")
	}
	waitFor(t, d, "the plain NOP", func() bool { return len(order) == 3 })
}

// TestDriverSubmitNowQueueFull fills a 4-entry SQ with plain ops, then submits a
// flagged one: Submit makes room by submitting, places the flagged op and submits it,
// so that nothing is left queued.
func TestDriverSubmitNowQueueFull(t *testing.T) {
	d := newDriver(t, DriverConfig{Entries: 4})
	if _, err := d.Wait(0); err != nil {
		t.Fatal(err)
	}
	done := 0
	for i := range 6 {
		var f poller.OpFlags
		if i == 5 {
			f = poller.FlagSubmitNow
		}
		if err := d.Submit(&poller.Op{Code: poller.OpNop, Flags: f, Done: func(*poller.Op) { done++ }}); err != nil {
			t.Fatal(err)
		}
	}
	if p := d.ring.Pending(); p != 0 || len(d.pend) != 0 {
		t.Fatalf("after a flagged Submit on a full SQ: %d SQEs and %d ops left queued", p, len(d.pend))
	}
	waitFor(t, d, "six NOPs", func() bool { return done == 6 })
}

package poller

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Cancel, FlagLink chains, OpClose's drain, Driver.Close and descriptor accounting.

func TestEpollCancel(t *testing.T) {
	d := newTestEpoll(t, EpollConfig{})
	a, b := socketpair(t)
	r := newRecord(Op{Code: OpRecv, Fd: a, Buf: make([]byte, 4)})
	if err := d.Cancel(&r.op); err != ErrNotInFlight {
		t.Fatalf("Cancel of an idle op = %v", err)
	}
	if err := d.Cancel(nil); err != ErrNotInFlight {
		t.Fatalf("Cancel(nil) = %v", err)
	}
	submit(t, d, &r.op)
	if err := d.Cancel(&r.op); err != nil {
		t.Fatal(err)
	}
	if err := d.Cancel(&r.op); err != nil { // still in flight until Wait delivers
		t.Fatalf("second Cancel = %v", err)
	}
	if len(r.got) != 0 {
		t.Fatal("Done ran inside Cancel")
	}
	waitUntil(t, d, "cancelled recv", r.final)
	if r.res(t) != errnoRes(unix.ECANCELED) {
		t.Fatalf("cancelled recv = %d", r.res(t))
	}
	if err := d.Cancel(&r.op); err != ErrNotInFlight {
		t.Fatalf("Cancel after completion = %v", err)
	}
	// A stale Ref (the op's slot reused by another op) is refused, not misapplied.
	var stale Op = r.op
	stale.Ref = makeRef(1, 12345)
	if err := d.Cancel(&stale); err != ErrNotInFlight {
		t.Fatalf("Cancel with a stale Ref = %v", err)
	}
	// A result that is already queued wins over a later Cancel.
	w := newRecord(Op{Code: OpSend, Fd: b, Buf: []byte("x")})
	submit(t, d, &w.op)
	if err := d.Cancel(&w.op); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, d, "send", w.final)
	if w.res(t) != 1 {
		t.Fatalf("send cancelled after it completed = %d, want 1", w.res(t))
	}
}

// A completed op may be submitted again from its own Done, the pattern of a
// re-armed read loop.
func TestEpollResubmitFromDone(t *testing.T) {
	d := newTestEpoll(t, EpollConfig{})
	a, b := socketpair(t)
	buf := make([]byte, 1)
	var got []byte
	op := &Op{Code: OpRecv, Fd: a, Buf: buf}
	op.Done = func(op *Op) {
		if op.Res <= 0 {
			return
		}
		got = append(got, buf[0])
		if len(got) < 3 {
			if err := d.Submit(op); err != nil {
				t.Error(err)
			}
		}
	}
	submit(t, d, op)
	unix.Write(b, []byte("abc"))
	waitUntil(t, d, "three recvs", func() bool { return len(got) == 3 })
	if string(got) != "abc" {
		t.Fatalf("got %q", got)
	}
}

func TestEpollWaitReentrant(t *testing.T) {
	d := newTestEpoll(t, EpollConfig{})
	var inner error = errors.New("not called")
	op := &Op{Code: OpNop, Done: func(*Op) { _, inner = d.Wait(0) }}
	submit(t, d, op)
	waitUntil(t, d, "nop", func() bool { return !op.InFlight() })
	if inner != ErrReentrant {
		t.Fatalf("Wait from Done = %v, want ErrReentrant", inner)
	}
}

func TestEpollLinkChain(t *testing.T) {
	d := newTestEpoll(t, EpollConfig{})
	rfd, wfd := pipe(t)
	buf := make([]byte, 5)
	w := newRecord(Op{Code: OpWrite, Fd: wfd, Buf: []byte("chain"), Offset: -1, Flags: FlagLink})
	r := newRecord(Op{Code: OpRead, Fd: rfd, Buf: buf, Offset: -1, Flags: FlagLink})
	n := newRecord(Op{Code: OpNop})
	submit(t, d, &w.op)
	submit(t, d, &r.op)
	submit(t, d, &n.op)
	waitUntil(t, d, "chain", n.final)
	if w.res(t) != 5 || r.res(t) != 5 || n.res(t) != 0 || string(buf) != "chain" {
		t.Fatalf("chain results %d %d %d", w.res(t), r.res(t), n.res(t))
	}
}

// A failed or short op ends its chain: the rest complete with ECANCELED.
func TestEpollLinkFailure(t *testing.T) {
	d := newTestEpoll(t, EpollConfig{})
	rfd, wfd := pipe(t)
	unix.Write(wfd, []byte("ab"))
	short := newRecord(Op{Code: OpRead, Fd: rfd, Buf: make([]byte, 8), Offset: -1, Flags: FlagLink})
	after := newRecord(Op{Code: OpNop, Flags: FlagLink})
	last := newRecord(Op{Code: OpNop})
	for _, r := range []*record{short, after, last} {
		submit(t, d, &r.op)
	}
	waitUntil(t, d, "chain", last.final)
	if short.res(t) != 2 || after.res(t) != errnoRes(unix.ECANCELED) || last.res(t) != errnoRes(unix.ECANCELED) {
		t.Fatalf("results %d %d %d", short.res(t), after.res(t), last.res(t))
	}
	bad := newRecord(Op{Code: OpRecv, Fd: -1, Buf: make([]byte, 1), Flags: FlagLink})
	next := newRecord(Op{Code: OpNop})
	submit(t, d, &bad.op)
	submit(t, d, &next.op)
	waitUntil(t, d, "chain", next.final)
	if bad.res(t) != errnoRes(unix.EBADF) || next.res(t) != errnoRes(unix.ECANCELED) {
		t.Fatalf("results %d %d", bad.res(t), next.res(t))
	}
}

// Cancelling a chain's head cancels the rest; cancelling its middle leaves the head.
func TestEpollLinkCancel(t *testing.T) {
	d := newTestEpoll(t, EpollConfig{})
	a, b := socketpair(t)
	head := newRecord(Op{Code: OpRecv, Fd: a, Buf: make([]byte, 1), Flags: FlagLink})
	mid := newRecord(Op{Code: OpNop, Flags: FlagLink})
	tail := newRecord(Op{Code: OpNop})
	for _, r := range []*record{head, mid, tail} {
		submit(t, d, &r.op)
	}
	if err := d.Cancel(&mid.op); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, d, "mid and tail", func() bool { return mid.final() && tail.final() })
	if mid.res(t) != errnoRes(unix.ECANCELED) || tail.res(t) != errnoRes(unix.ECANCELED) || head.final() {
		t.Fatalf("mid %d tail %d head done %v", mid.res(t), tail.res(t), head.final())
	}
	unix.Write(b, []byte("x"))
	waitUntil(t, d, "head", head.final)
	if head.res(t) != 1 {
		t.Fatalf("head = %d", head.res(t))
	}

	head2 := newRecord(Op{Code: OpRecv, Fd: a, Buf: make([]byte, 1), Flags: FlagLink})
	tail2 := newRecord(Op{Code: OpNop})
	submit(t, d, &head2.op)
	submit(t, d, &tail2.op)
	d.Cancel(&head2.op)
	waitUntil(t, d, "chain", tail2.final)
	if head2.res(t) != errnoRes(unix.ECANCELED) || tail2.res(t) != errnoRes(unix.ECANCELED) {
		t.Fatalf("head %d tail %d", head2.res(t), tail2.res(t))
	}
}

// A chain left open (last op with FlagLink) starts at the next Wait.
func TestEpollLinkOpenChain(t *testing.T) {
	d := newTestEpoll(t, EpollConfig{})
	r := newRecord(Op{Code: OpNop, Flags: FlagLink})
	submit(t, d, &r.op)
	waitUntil(t, d, "nop", r.final)
	if r.res(t) != 0 {
		t.Fatalf("nop = %d", r.res(t))
	}
}

// OpClose cancels the ops waiting on the descriptor first, closes it, and completes
// last; ops submitted meanwhile get EBADF.
func TestEpollOpCloseDrains(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg EpollConfig) {
		d := newTestEpoll(t, cfg)
		a, _ := socketpair(t)
		var order []Opcode
		rec := func(op Op) *record {
			r := newRecord(op)
			inner := r.op.Done
			r.op.Done = func(op *Op) { order = append(order, op.Code); inner(op) }
			return r
		}
		rx := rec(Op{Code: OpRecv, Fd: a, Buf: make([]byte, 1)})
		poll := rec(Op{Code: OpPoll, Fd: a, Arg: unix.POLLIN, Flags: FlagMultishot})
		cl := rec(Op{Code: OpClose, Fd: a})
		late := rec(Op{Code: OpSend, Fd: a, Buf: []byte("x")})
		again := rec(Op{Code: OpClose, Fd: a})
		for _, r := range []*record{rx, poll, cl, late, again} {
			submit(t, d, &r.op)
		}
		waitUntil(t, d, "close", cl.final)
		if rx.res(t) != errnoRes(unix.ECANCELED) || poll.res(t) != errnoRes(unix.ECANCELED) || cl.res(t) != 0 {
			t.Fatalf("recv %d poll %d close %d", rx.res(t), poll.res(t), cl.res(t))
		}
		if late.res(t) != errnoRes(unix.EBADF) || again.res(t) != errnoRes(unix.EBADF) {
			t.Fatalf("late send %d, second close %d, want EBADF", late.res(t), again.res(t))
		}
		if order[0] != OpRecv || order[1] != OpPoll || order[2] != OpClose {
			t.Fatalf("completion order %v: close must come after its descriptor's ops", order)
		}
		if _, err := unix.FcntlInt(uintptr(a), unix.F_GETFD, 0); err != unix.EBADF {
			t.Fatalf("descriptor still open after OpClose: %v", err)
		}
	})
}

// The number released by OpClose can come back as a new descriptor that the driver
// treats afresh.
func TestEpollOpCloseReuse(t *testing.T) {
	d := newTestEpoll(t, EpollConfig{})
	a, b := socketpair(t)
	rx := newRecord(Op{Code: OpRecv, Fd: a, Buf: make([]byte, 1)})
	submit(t, d, &rx.op) // registers a with epoll
	run(t, d, newRecord(Op{Code: OpClose, Fd: a}))
	unix.Close(b)
	c, e := socketpair(t)
	if c != a {
		t.Skipf("descriptor number not reused (%d, then %d)", a, c)
	}
	rx2 := newRecord(Op{Code: OpRecv, Fd: c, Buf: make([]byte, 1)})
	submit(t, d, &rx2.op)
	unix.Write(e, []byte("z"))
	waitUntil(t, d, "recv on the reused number", rx2.final)
	if rx2.res(t) != 1 {
		t.Fatalf("recv = %d", rx2.res(t))
	}
}

// Close completes everything in flight with ECANCELED, inside Close.
func TestEpollCloseWithOpsInFlight(t *testing.T) {
	before := openFDs(t)
	d, err := NewEpoll(EpollConfig{})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := socketpair(t)
	g, _ := d.NewBufferGroup(2, 8)
	recs := []*record{
		newRecord(Op{Code: OpRecv, Fd: a, Buf: make([]byte, 1)}),
		newRecord(Op{Code: OpRecv, Fd: a, Flags: FlagMultishot | FlagBufferSelect, Group: g.ID()}),
		newRecord(Op{Code: OpTimeout, Timeout: time.Hour}),
		newRecord(Op{Code: OpPoll, Fd: a, Arg: unix.POLLIN}),
		newRecord(Op{Code: OpRecv, Fd: a, Buf: make([]byte, 1), Flags: FlagLink}), // a chain under way
		newRecord(Op{Code: OpNop}),
		newRecord(Op{Code: OpNop, Flags: FlagLink}), // left open
	}
	for _, r := range recs {
		submit(t, d, &r.op)
	}
	var resub error
	last := recs[len(recs)-1]
	last.op.Done = func(op *Op) { last.last = true; last.got = append(last.got, *op); resub = d.Submit(op) }
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	for i, r := range recs {
		if !r.final() || len(r.got) != 1 || r.got[0].Res != errnoRes(unix.ECANCELED) || r.op.InFlight() {
			t.Errorf("op %d (%v): %+v, want one ECANCELED completion", i, r.op.Code, r.got)
		}
	}
	if resub != ErrClosed {
		t.Errorf("Submit from Done inside Close = %v, want ErrClosed", resub)
	}
	if err := d.Close(); err != ErrClosed {
		t.Errorf("second Close = %v", err)
	}
	if _, err := d.Wait(0); err != ErrClosed {
		t.Errorf("Wait after Close = %v", err)
	}
	if err := d.Wake(); err != ErrClosed {
		t.Errorf("Wake after Close = %v", err)
	}
	if err := d.Submit(&Op{Code: OpNop, Done: func(*Op) {}}); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Submit after Close = %v", err)
	}
	unix.Close(a)
	if after := openFDs(t); after != before+1 { // b is still open until cleanup
		t.Errorf("descriptors: %d before, %d after", before, after)
	}
}

// Close may be called from a Done callback inside Wait.
func TestEpollCloseFromDone(t *testing.T) {
	d, err := NewEpoll(EpollConfig{})
	if err != nil {
		t.Fatal(err)
	}
	other := newRecord(Op{Code: OpTimeout, Timeout: time.Hour})
	submit(t, d, &other.op)
	var closeErr error = errors.New("not called")
	op := &Op{Code: OpNop, Done: func(*Op) { closeErr = d.Close() }}
	submit(t, d, op)
	if _, err := d.Wait(time.Second); err != nil {
		t.Fatal(err)
	}
	if closeErr != nil || other.res(t) != errnoRes(unix.ECANCELED) {
		t.Fatalf("Close from Done = %v, other op %+v", closeErr, other.got)
	}
}

// Many drivers, sockets, accepts and files come and go without leaking a descriptor.
func TestEpollNoDescriptorLeak(t *testing.T) {
	before := openFDs(t)
	for range 3 {
		d, err := NewEpoll(EpollConfig{})
		if err != nil {
			t.Fatal(err)
		}
		fds, _ := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		rx := newRecord(Op{Code: OpRecv, Fd: fds[0], Buf: make([]byte, 1)})
		submit(t, d, &rx.op)
		op := newRecord(Op{Code: OpOpenat, Fd: unix.AT_FDCWD, Path: filepath.Join(t.TempDir(), "f"),
			Arg: unix.O_CREAT | unix.O_RDWR | unix.O_CLOEXEC, Mode: 0o600})
		fd := run(t, d, op)
		if fd < 0 {
			t.Fatalf("openat: %v", op.got[0].Err())
		}
		for _, f := range []int{int(fd), fds[0], fds[1]} {
			if res := run(t, d, newRecord(Op{Code: OpClose, Fd: f})); res != 0 {
				t.Fatalf("close(%d) = %d", f, res)
			}
		}
		if rx.res(t) != errnoRes(unix.ECANCELED) {
			t.Fatalf("recv on closed fd = %d", rx.res(t))
		}
		if err := d.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if after := openFDs(t); after != before {
		t.Fatalf("descriptors: %d before, %d after", before, after)
	}
}

// A chained op cancelled and delivered before its chain ends frees its slot; the
// next op, which joins the broken chain (and may reuse that slot), is cancelled too.
func TestEpollLinkCancelledSlotReused(t *testing.T) {
	d := newTestEpoll(t, EpollConfig{})
	a, _ := socketpair(t)
	head := newRecord(Op{Code: OpRecv, Fd: a, Buf: make([]byte, 1), Flags: FlagLink})
	next := newRecord(Op{Code: OpNop})
	inner := head.op.Done
	head.op.Done = func(op *Op) {
		inner(op)
		if err := d.Submit(&next.op); err != nil {
			t.Error(err)
		}
	}
	trigger := &Op{Code: OpNop, Done: func(*Op) {
		if err := d.Submit(&head.op); err != nil {
			t.Error(err)
		}
		d.Cancel(&head.op)
	}}
	submit(t, d, trigger)
	waitUntil(t, d, "chain", next.final)
	if head.res(t) != errnoRes(unix.ECANCELED) || next.res(t) != errnoRes(unix.ECANCELED) {
		t.Fatalf("head %d next %d", head.res(t), next.res(t))
	}
}

// Data that arrived before Cancel, unseen by any Wait, is delivered, not cancelled;
// bytes a MSG_WAITALL recv already took are reported.
func TestEpollCancelSeesArrivedData(t *testing.T) {
	d := newTestEpoll(t, EpollConfig{})
	a, b := socketpair(t)
	r := newRecord(Op{Code: OpRecv, Fd: a, Buf: make([]byte, 1)})
	submit(t, d, &r.op)
	unix.Write(b, []byte("x"))
	d.Cancel(&r.op)
	waitUntil(t, d, "recv", r.final)
	if r.res(t) != 1 {
		t.Fatalf("recv = %d, want its data", r.res(t))
	}
	all := newRecord(Op{Code: OpRecv, Fd: a, Buf: make([]byte, 8), Arg: unix.MSG_WAITALL})
	submit(t, d, &all.op)
	unix.Write(b, []byte("abc"))
	d.Wait(0)
	d.Cancel(&all.op)
	waitUntil(t, d, "waitall recv", all.final)
	if all.res(t) != 3 || string(all.op.Buf[:3]) != "abc" {
		t.Fatalf("cancelled MSG_WAITALL recv = %d, want the 3 bytes it took", all.res(t))
	}
}

// A zero Epoll (not from NewEpoll) refuses everything instead of touching fd 0.
func TestEpollZeroValue(t *testing.T) {
	var d Epoll
	op := &Op{Code: OpNop, Done: func(*Op) {}}
	if d.Submit(op) != ErrClosed || d.Wake() != ErrClosed || d.Close() != ErrClosed || d.Cancel(op) != ErrNotInFlight {
		t.Fatal("zero Epoll accepted a call")
	}
	if _, err := d.Wait(0); err != ErrClosed {
		t.Fatal(err)
	}
	if _, err := d.NewBufferGroup(1, 1); err != ErrClosed {
		t.Fatal(err)
	}
}

package poller

import (
	"bytes"
	"errors"
	"net"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Multishot accept, recv and poll, buffer groups, fairness and batch bounds.

// checkMultishot verifies the shape of a multishot op's completions: every one but
// the last has ResMore, the last has it clear.
func checkMultishot(t *testing.T, r *record) {
	t.Helper()
	for i, c := range r.got {
		last := i == len(r.got)-1
		if (c.Result&ResMore == 0) != last {
			t.Fatalf("completion %d of %d: ResMore=%v", i, len(r.got), c.Result&ResMore != 0)
		}
	}
	if !r.last {
		t.Fatal("no final completion")
	}
	if r.op.InFlight() {
		t.Fatal("op still in flight after its final completion")
	}
}

func TestEpollMultishotAccept(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg EpollConfig) {
		cfg.MaxAttemptsPerFd = 2 // more connections than one turn takes
		d := newTestEpoll(t, cfg)
		ln, _ := listenTCP(t)
		acc := newRecord(Op{Code: OpAccept, Fd: listenerFD(t, ln), Flags: FlagMultishot})
		submit(t, d, &acc.op)
		const n = 5
		for range n {
			c, err := net.Dial("tcp4", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
		}
		waitUntil(t, d, "accepts", func() bool { return len(acc.got) >= n })
		if err := d.Cancel(&acc.op); err != nil {
			t.Fatal(err)
		}
		waitUntil(t, d, "final accept", acc.final)
		checkMultishot(t, acc)
		for _, c := range acc.got[:n] {
			if c.Res < 0 {
				t.Fatalf("accept: %v", c.Err())
			}
			unix.Close(int(c.Res))
		}
		if last := acc.got[len(acc.got)-1]; last.Res != errnoRes(unix.ECANCELED) {
			t.Fatalf("final accept = %d, want ECANCELED", last.Res)
		}
	})
}

func TestEpollMultishotRecv(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg EpollConfig) {
		d := newTestEpoll(t, cfg)
		g, err := d.NewBufferGroup(4, 8)
		if err != nil {
			t.Fatal(err)
		}
		a, b := socketpair(t)
		rx := newRecord(Op{Code: OpRecv, Fd: a, Flags: FlagMultishot | FlagBufferSelect, Group: g.ID()})
		var data []byte
		rx.op.Done = func(op *Op) {
			c := *op
			rx.got = append(rx.got, c)
			rx.last = op.Result&ResMore == 0
			if op.Res > 0 {
				if op.Result&ResBuffer == 0 {
					t.Errorf("recv of %d bytes without ResBuffer", op.Res)
				}
				data = append(data, g.Bytes(op.BufID)[:op.Res]...)
				g.Release(op.BufID)
			}
		}
		submit(t, d, &rx.op)
		var want []byte
		for i := range 20 {
			msg := []byte{byte('a' + i), byte('a' + i)}
			want = append(want, msg...)
			unix.Write(b, msg)
			if _, err := d.Wait(0); err != nil {
				t.Fatal(err)
			}
		}
		waitUntil(t, d, "data", func() bool { return len(data) >= len(want) })
		unix.Close(b) // EOF ends the stream with a final 0
		waitUntil(t, d, "EOF", rx.final)
		checkMultishot(t, rx)
		if string(data) != string(want) {
			t.Fatalf("got %q, want %q", data, want)
		}
		if last := rx.got[len(rx.got)-1]; last.Res != 0 || last.Result&ResBuffer != 0 {
			t.Fatalf("final = %d flags %#x, want 0 without a buffer", last.Res, last.Result)
		}
	})
}

// With every buffer out, the stream ends with ENOBUFS, final, as on io_uring.
func TestEpollMultishotRecvENOBUFS(t *testing.T) {
	d := newTestEpoll(t, EpollConfig{})
	g, err := d.NewBufferGroup(2, 4)
	if err != nil {
		t.Fatal(err)
	}
	a, b := socketpair(t)
	rx := newRecord(Op{Code: OpRecv, Fd: a, Flags: FlagMultishot | FlagBufferSelect, Group: g.ID()})
	submit(t, d, &rx.op)
	unix.Write(b, []byte("0123456789ab")) // three buffers' worth
	waitUntil(t, d, "ENOBUFS", rx.final)
	checkMultishot(t, rx)
	if len(rx.got) != 3 || rx.got[2].Res != errnoRes(unix.ENOBUFS) {
		t.Fatalf("completions %+v, want two buffers then ENOBUFS", rx.got)
	}
	if rx.got[0].BufID == rx.got[1].BufID {
		t.Fatal("one buffer handed out twice")
	}
	// Released buffers serve the next op; the unread bytes are still there.
	g.Release(rx.got[0].BufID)
	one := newRecord(Op{Code: OpRecv, Fd: a, Flags: FlagBufferSelect, Group: g.ID()})
	if res := run(t, d, one); res != 4 || string(g.Bytes(one.got[0].BufID)[:4]) != "89ab" {
		t.Fatalf("recv after release = %d", res)
	}
}

func TestEpollBufferGroupMisuse(t *testing.T) {
	d := newTestEpoll(t, EpollConfig{})
	for _, c := range [][2]int{{0, 8}, {3, 8}, {65536, 8}, {4, 0}, {4, -1}} {
		if _, err := d.NewBufferGroup(c[0], c[1]); !errors.Is(err, unix.EINVAL) {
			t.Errorf("NewBufferGroup(%d, %d) = %v, want EINVAL", c[0], c[1], err)
		}
	}
	g, err := d.NewBufferGroup(2, 16)
	if err != nil {
		t.Fatal(err)
	}
	if g.Count() != 2 || g.Size() != 16 || len(g.Bytes(1)) != 16 || cap(g.Bytes(0)) != 16 || g.Bytes(2) != nil {
		t.Fatal("group geometry wrong")
	}
	eg := g.(*emulGroup)
	g.Release(7) // out of range: ignored
	g.Release(0) // not handed out: ignored
	if eg.Available() != 2 {
		t.Fatalf("free count %d after stray releases, want 2", eg.Available())
	}
	// An unknown group is refused at Submit, as on every driver (the conformance
	// scenario RecvUnknownGroup).
	a, _ := socketpair(t)
	r := newRecord(Op{Code: OpRecv, Fd: a, Flags: FlagBufferSelect, Group: 999})
	var inv *InvalidOpError
	if err := d.Submit(&r.op); !errors.As(err, &inv) || r.op.InFlight() {
		t.Fatalf("recv from unknown group: Submit = %v, in flight %v", err, r.op.InFlight())
	}
	d.Close()
	if g.Bytes(0) != nil {
		t.Fatal("Bytes after Close returned unmapped memory")
	}
	g.Release(0)
	if _, err := d.NewBufferGroup(2, 16); err != ErrClosed {
		t.Fatalf("NewBufferGroup after Close = %v", err)
	}
}

func TestEpollMultishotPoll(t *testing.T) {
	d := newTestEpoll(t, EpollConfig{})
	a, b := socketpair(t)
	p := newRecord(Op{Code: OpPoll, Fd: a, Arg: unix.POLLIN, Flags: FlagMultishot})
	submit(t, d, &p.op)
	buf := make([]byte, 16)
	for i := range 3 {
		unix.Write(b, []byte("x"))
		waitUntil(t, d, "poll event", func() bool { return len(p.got) > i })
		unix.Read(a, buf)
	}
	if err := d.Cancel(&p.op); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, d, "final poll", p.final)
	checkMultishot(t, p)
	for _, c := range p.got[:len(p.got)-1] {
		if c.Res&unix.POLLIN == 0 {
			t.Fatalf("poll event %#x without POLLIN", c.Res)
		}
	}
}

// One busy descriptor gets at most MaxAttemptsPerFd attempts per Wait (each filling up
// to recvBatchBufs buffers of a stream); another descriptor's op completes in the
// first Wait regardless.
func TestEpollFairness(t *testing.T) {
	const budget = 3
	d := newTestEpoll(t, EpollConfig{MaxAttemptsPerFd: budget})
	g, _ := d.NewBufferGroup(64, 1)
	busy, feeder := socketpair(t)
	rx := newRecord(Op{Code: OpRecv, Fd: busy, Flags: FlagMultishot | FlagBufferSelect, Group: g.ID()})
	unix.Write(feeder, make([]byte, 60)) // 60 one-byte buffers' worth: more than two Waits' budget
	submit(t, d, &rx.op)
	if len(rx.got) != 0 {
		t.Fatal("Done ran inside Submit")
	}
	quiet, peer := socketpair(t)
	other := newRecord(Op{Code: OpRecv, Fd: quiet, Buf: make([]byte, 1)})
	submit(t, d, &other.op)
	unix.Write(peer, []byte("y"))
	rounds := 0
	for len(rx.got) < 60 {
		before := len(rx.got)
		if _, err := d.Wait(time.Second); err != nil {
			t.Fatal(err)
		}
		limit := budget * recvBatchBufs
		if rounds == 0 {
			limit += budget * recvBatchBufs // Submit's own attempt had a turn of its own
		}
		if got := len(rx.got) - before; got > limit {
			t.Fatalf("Wait %d delivered %d results of one descriptor, budget %d", rounds, got, budget)
		}
		if rounds == 0 && !other.final() {
			t.Fatal("the quiet descriptor's op waited behind the busy one")
		}
		rounds++
	}
	d.Cancel(&rx.op)
	waitUntil(t, d, "final", rx.final)
}

func TestEpollBatchBound(t *testing.T) {
	d := newTestEpoll(t, EpollConfig{MaxCompletionsPerWait: 4})
	var recs []*record
	for range 10 {
		r := newRecord(Op{Code: OpNop})
		submit(t, d, &r.op)
		recs = append(recs, r)
	}
	var counts []int
	for range 3 {
		n, err := d.Wait(0)
		if err != nil {
			t.Fatal(err)
		}
		counts = append(counts, n)
	}
	if counts[0] != 4 || counts[1] != 4 || counts[2] != 2 {
		t.Fatalf("Wait counts %v, want [4 4 2]", counts)
	}
	for i, r := range recs {
		if r.res(t) != 0 {
			t.Fatalf("nop %d = %d", i, r.res(t))
		}
	}
}

func TestCompQueueWraps(t *testing.T) {
	var q compQueue
	next, want := int32(0), int32(0)
	for round := range 50 {
		for range round % 7 * 20 {
			q.push(completion{res: next})
			next++
		}
		for range round % 5 * 15 {
			if q.n == 0 {
				break
			}
			if c := q.pop(); c.res != want {
				t.Fatalf("pop = %d, want %d", c.res, want)
			}
			want++
		}
	}
	for q.n > 0 {
		if c := q.pop(); c.res != want {
			t.Fatalf("pop = %d, want %d", c.res, want)
		}
		want++
	}
	if want != next {
		t.Fatalf("popped %d of %d", want, next)
	}
}

// TestEpollRecvFillsSeveralBuffers: once a receive on a stream has filled its buffer,
// the next attempt of the multishot receive fills recvBatchBufs buffers with one
// syscall — one completion per buffer, in order, bytes intact.
func TestEpollRecvFillsSeveralBuffers(t *testing.T) {
	const size = 1024
	d := newTestEpoll(t, EpollConfig{MaxAttemptsPerFd: 1})
	g, _ := d.NewBufferGroup(64, size)
	a, b := socketpair(t)
	src := make([]byte, 3*recvBatchBufs*size)
	for i := range src {
		src[i] = byte(i * 7 / 5)
	}
	if n, err := unix.Write(b, src); err != nil || n != len(src) {
		t.Fatalf("write: %d, %v", n, err)
	}
	rx := newRecord(Op{Code: OpRecv, Fd: a, Flags: FlagMultishot | FlagBufferSelect, Group: g.ID()})
	submit(t, d, &rx.op)
	if _, err := d.Wait(time.Second); err != nil {
		t.Fatal(err)
	}
	// With one attempt per descriptor per turn: Submit's attempt is a plain receive,
	// which fills its buffer; the Wait's is one recvmsg into recvBatchBufs buffers.
	if want := 1 + recvBatchBufs; len(rx.got) != want {
		t.Fatalf("first Wait delivered %d results, want %d (one plain receive, then a batch of %d)", len(rx.got), want, recvBatchBufs)
	}
	waitUntil(t, d, "the rest", func() bool { return len(rx.got) == len(src)/size })
	var got []byte
	for i, c := range rx.got {
		if c.Res != size || c.Result&ResBuffer == 0 {
			t.Fatalf("result %d: res %d flags %v, want a full %d-byte buffer", i, c.Res, c.Result, size)
		}
		got = append(got, g.Bytes(c.BufID)[:c.Res]...)
		g.Release(c.BufID)
	}
	if !bytes.Equal(got, src) {
		t.Fatal("bytes differ or arrived out of order")
	}
	d.Cancel(&rx.op)
	waitUntil(t, d, "final", rx.final)
}

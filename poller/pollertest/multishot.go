package pollertest

import (
	"bytes"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/zokio/zokio/poller"
)

// Multishot scenarios: results keep coming with ResMore until the final one.
func init() {
	register("MultishotAccept", testMultishotAccept)
	register("MultishotRecv", testMultishotRecv)
	register("MultishotRecvEOF", testMultishotRecvEOF)
	register("MultishotRecvDataThenEOF", testMultishotRecvDataThenEOF)
	register("MultishotRecvNoBuffers", testMultishotRecvENOBUFS)
	register("MultishotPoll", testMultishotPoll)
	register("BufferGroupBadInput", testBufferGroupBadInput)
	register("InFlightTable", testInFlightTable)
}

// testInFlightTable checks the diagnostics a timed-out test prints: the driver lists
// the ops it holds (a recv waiting on an idle socket, a multishot recv), and nothing
// once they have ended.
func testInFlightTable(t *testing.T, nd NewDriver) {
	h, fds := start(t, nd), newFDs(t)
	r, ok := h.d.(poller.InFlightReporter)
	if !ok {
		t.Skipf("%T cannot list its in-flight table (poller.InFlightReporter is optional)", h.d)
	}
	if ops := r.InFlight(nil); len(ops) != 0 {
		t.Fatalf("a fresh driver lists %v", ops)
	}
	g := newGroup(t, h, 2, 64)
	a, _ := fds.streamPair()
	c, _ := fds.streamPair()
	one := newRec(t, poller.Op{Code: poller.OpRecv, Fd: a, Buf: make([]byte, 8)})
	multi := newRec(t, poller.Op{Code: poller.OpRecv, Fd: c, Flags: poller.FlagMultishot | poller.FlagBufferSelect, Group: g.ID()})
	h.submit(&one.op)
	h.submit(&multi.op)
	h.quiet(2*time.Millisecond, one, multi)
	ops := r.InFlight(nil)
	if len(ops) != 2 {
		t.Fatalf("in flight: %v, want the two recvs", ops)
	}
	found := map[int]poller.InFlightOp{}
	for _, o := range ops {
		if o.Code != poller.OpRecv || o.State == "" {
			t.Fatalf("in flight: %v, want recvs with a state", o)
		}
		found[o.Fd] = o
	}
	if _, ok := found[a]; !ok {
		t.Fatalf("in flight: %v, want the recv on fd %d", ops, a)
	}
	if o, ok := found[c]; !ok || o.Flags&poller.FlagMultishot == 0 {
		t.Fatalf("in flight: %v, want the multishot recv on fd %d", ops, c)
	}
	var dump strings.Builder
	if n := poller.DumpInFlight(&dump, h.d); n != 2 || !strings.Contains(dump.String(), "recv") {
		t.Fatalf("DumpInFlight listed %d:\n%s", n, dump.String())
	}
	fatalIf(t, h.d.Cancel(&one.op), "Cancel")
	fatalIf(t, h.d.Cancel(&multi.op), "Cancel")
	h.until("both recvs cancelled", func() bool { return one.isFinal() && multi.isFinal() })
	if ops := r.InFlight(nil); len(ops) != 0 {
		t.Fatalf("after the final completions the driver still lists %v", ops)
	}
}

func testMultishotAccept(t *testing.T, nd NewDriver) {
	h, fds := start(t, nd), newFDs(t)
	lfd, addr := fds.listener()
	acc := newRec(t, poller.Op{Code: poller.OpAccept, Fd: lfd, Flags: poller.FlagMultishot,
		Arg: poller.SockNonblock | poller.SockCloexec})
	h.submit(&acc.op)
	const conns = 5
	for i := 0; i < conns; i++ {
		fds.dial(addr)
	}
	h.until("five accepted connections", func() bool { return len(acc.got) >= conns })
	for i, c := range acc.got[:conns] {
		if c.Res < 0 || c.Flags&poller.ResMore == 0 {
			t.Fatalf("accept %d: res %d flags %v, want a descriptor with ResMore", i, c.Res, c.Flags)
		}
		fds.add(int(c.Res))
	}
	fatalIf(t, h.d.Cancel(&acc.op), "Cancel")
	h.until("final accept completion", acc.isFinal)
	last := acc.got[len(acc.got)-1]
	for _, c := range acc.got[conns : len(acc.got)-1] {
		fds.add(int(c.Res)) // nothing else connects, but never leak what arrives
	}
	wantErrno(t, "final multishot accept", last, syscall.ECANCELED)
}

func newGroup(t *testing.T, h *harness, count, size int) poller.BufferGroup {
	t.Helper()
	g, err := h.d.NewBufferGroup(count, size)
	fatalIf(t, err, "NewBufferGroup(%d, %d)", count, size)
	if g.Count() != count || g.Size() != size {
		t.Fatalf("group has %d×%d bytes, want %d×%d", g.Count(), g.Size(), count, size)
	}
	return g
}

func testMultishotRecv(t *testing.T, nd NewDriver) {
	h, fds := start(t, nd), newFDs(t)
	g := newGroup(t, h, 4, 64)
	a, b := fds.streamPair()
	r := newRec(t, poller.Op{Code: poller.OpRecv, Fd: a, Flags: poller.FlagMultishot | poller.FlagBufferSelect, Group: g.ID()})
	h.submit(&r.op)
	// More messages than buffers: releasing keeps it going. A driver that fills
	// buffers a part at a time may split a message at a buffer's end, so the check is
	// on the stream: every message arrives whole and in order.
	var stream, want []byte
	seen := 0
	for i := 0; i < 10; i++ {
		msg := fmt.Sprintf("message %d", i)
		want = append(want, msg...)
		write(t, b, []byte(msg))
		h.until(msg, func() bool {
			for ; seen < len(r.got); seen++ {
				c := r.got[seen]
				if c.Res <= 0 || c.Flags&poller.ResMore == 0 || c.Flags&poller.ResBuffer == 0 {
					t.Fatalf("recv %d: res %d flags %v, want data in a buffer with ResMore", seen, c.Res, c.Flags)
				}
				stream = append(stream, c.data(g)...)
				g.Release(c.BufID)
			}
			return len(stream) >= len(want)
		})
		if string(stream) != string(want) {
			t.Fatalf("after message %d the stream is %q, want %q", i, stream, want)
		}
	}
	fatalIf(t, h.d.Cancel(&r.op), "Cancel")
	h.until("final recv completion", r.isFinal)
	wantErrno(t, "cancelled multishot recv", r.got[len(r.got)-1], syscall.ECANCELED)
}

func testMultishotRecvEOF(t *testing.T, nd NewDriver) {
	h, fds := start(t, nd), newFDs(t)
	g := newGroup(t, h, 2, 64)
	a, b := fds.streamPair()
	r := newRec(t, poller.Op{Code: poller.OpRecv, Fd: a, Flags: poller.FlagMultishot | poller.FlagBufferSelect, Group: g.ID()})
	h.submit(&r.op)
	h.quiet(2*time.Millisecond, r)
	fds.close(b)
	h.until("multishot recv at EOF", r.isFinal)
	last := r.got[len(r.got)-1]
	if last.Res != 0 || last.Flags&poller.ResMore != 0 {
		t.Fatalf("multishot recv at EOF ended with res %d flags %v, want a final 0", last.Res, last.Flags)
	}
}

// testMultishotRecvDataThenEOF has the last bytes and the peer's shutdown arrive
// while the driver is not waiting, so that both are pending when it looks again (on
// epoll: one edge for both). The stream must deliver the bytes, then end with a
// final 0.
func testMultishotRecvDataThenEOF(t *testing.T, nd NewDriver) {
	h, fds := start(t, nd), newFDs(t)
	g := newGroup(t, h, 4, 64)
	a, b := fds.streamPair()
	r := newRec(t, poller.Op{Code: poller.OpRecv, Fd: a, Flags: poller.FlagMultishot | poller.FlagBufferSelect, Group: g.ID()})
	h.submit(&r.op)
	write(t, b, []byte("first"))
	h.until("the first message", func() bool { return len(r.got) > 0 })
	h.quiet(2 * time.Millisecond) // armed and drained: waiting for the next edge
	if len(r.got) != 1 {
		t.Fatalf("%d completions for one message, want 1: %+v", len(r.got), r.got)
	}
	write(t, b, []byte("tail"))
	shutdownWrite(t, b)
	h.until("multishot recv at EOF", r.isFinal)
	var data string
	for _, c := range r.got[:len(r.got)-1] {
		if c.Res <= 0 || c.Flags&poller.ResBuffer == 0 {
			t.Fatalf("recv: res %d flags %v, want data in a buffer", c.Res, c.Flags)
		}
		data += string(c.data(g))
		g.Release(c.BufID)
	}
	last := r.got[len(r.got)-1]
	if data != "firsttail" || last.Res != 0 || last.Flags&poller.ResMore != 0 {
		t.Fatalf("stream gave %q and ended with res %d flags %v, want %q then a final 0",
			data, last.Res, last.Flags, "firsttail")
	}
}

// testMultishotRecvENOBUFS runs the group dry: the stream ends with ENOBUFS and the
// bytes that found no buffer stay in the socket. Each message fills a buffer, so that
// a driver that fills buffers a part at a time runs dry as soon as one that does not.
func testMultishotRecvENOBUFS(t *testing.T, nd NewDriver) {
	h, fds := start(t, nd), newFDs(t)
	g := newGroup(t, h, 2, 64)
	a, b := fds.streamPair()
	r := newRec(t, poller.Op{Code: poller.OpRecv, Fd: a, Flags: poller.FlagMultishot | poller.FlagBufferSelect, Group: g.ID()})
	h.submit(&r.op)
	for i := 0; i < 2; i++ {
		write(t, b, bytes.Repeat([]byte{'a' + byte(i)}, 64))
		h.until("a buffered message", func() bool { return len(r.got) > i })
	}
	write(t, b, []byte("kept"))
	h.until("end of the multishot recv", r.isFinal)
	last := r.got[len(r.got)-1]
	wantErrno(t, "multishot recv with no free buffer", last, syscall.ENOBUFS)
	buf := make([]byte, 16)
	if n := readNow(t, a, buf); string(buf[:n]) != "kept" {
		t.Fatalf("after ENOBUFS the socket held %q, want %q", buf[:n], "kept")
	}
	for _, c := range r.got[:2] {
		g.Release(c.BufID)
	}
}

func testMultishotPoll(t *testing.T, nd NewDriver) {
	h, fds := start(t, nd), newFDs(t)
	rfd, wfd := fds.pipe()
	p := newRec(t, poller.Op{Code: poller.OpPoll, Fd: rfd, Arg: poller.PollIn, Flags: poller.FlagMultishot})
	h.submit(&p.op)
	for i := 0; i < 3; i++ {
		write(t, wfd, []byte("x"))
		h.until("a poll event", func() bool { return len(p.got) > i })
		if c := p.got[i]; c.Res&poller.PollIn == 0 || c.Flags&poller.ResMore == 0 {
			t.Fatalf("poll %d: revents %#x flags %v", i, c.Res, c.Flags)
		}
		readNow(t, rfd, make([]byte, 8))
	}
	fatalIf(t, h.d.Cancel(&p.op), "Cancel")
	h.until("final poll completion", p.isFinal)
	wantErrno(t, "cancelled multishot poll", p.got[len(p.got)-1], syscall.ECANCELED)
}

func testBufferGroupBadInput(t *testing.T, nd NewDriver) {
	h := start(t, nd)
	for _, c := range [][2]int{{0, 64}, {3, 64}, {4, 0}, {-1, 64}, {65536, 64}} {
		if _, err := h.d.NewBufferGroup(c[0], c[1]); err == nil {
			t.Errorf("NewBufferGroup(%d, %d) succeeded", c[0], c[1])
		}
	}
}

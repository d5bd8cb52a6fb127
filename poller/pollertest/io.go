package pollertest

import (
	"bytes"
	"fmt"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/zokio/zokio/poller"
)

// Scenarios on pipes and sockets.
func init() {
	register("PipeReadWrite", testPipeReadWrite)
	register("RecvWaitsForData", testRecvWaits)
	register("RecvEOF", testRecvEOF)
	register("MsgDontWait", testMsgDontWait)
	register("BadFd", testBadFd)
	register("AcceptConnect", testAcceptConnect)
	register("ConnectRefused", testConnectRefused)
	register("SendmsgRecvmsg", testSendmsgRecvmsg)
	register("Shutdown", testShutdown)
	register("Poll", testPoll)
	register("CancelWaitingRecv", testCancelRecv)
	register("CancelRace", testCancelRace)
	register("OpTimeoutExpires", testOpTimeoutExpires)
	register("OpTimeoutResultWins", testOpTimeoutResultWins)
	register("CloseFdDrainsOps", testCloseFdDrains)
	register("CloseWithIOInFlight", testCloseWithIO)
	register("RecvCustodyUnderGC", testRecvCustodyGC)
	register("SendZC", testSendZC)
}

func testPipeReadWrite(t *testing.T, nd NewDriver) {
	h, fds := start(t, nd), newFDs(t)
	r, w := fds.pipe()
	msg := []byte("hello, ring")
	wr := h.run(newRec(t, poller.Op{Code: poller.OpWrite, Fd: w, Buf: msg, Offset: -1}))
	if n := wr.ok(); n != len(msg) {
		t.Fatalf("wrote %d, want %d", n, len(msg))
	}
	buf := make([]byte, 64)
	rd := h.run(newRec(t, poller.Op{Code: poller.OpRead, Fd: r, Buf: buf, Offset: -1}))
	if n := rd.ok(); !bytes.Equal(buf[:n], msg) {
		t.Fatalf("read %q, want %q", buf[:n], msg)
	}
}

func testRecvWaits(t *testing.T, nd NewDriver) {
	h, fds := start(t, nd), newFDs(t)
	a, b := fds.streamPair()
	buf := make([]byte, 16)
	r := newRec(t, poller.Op{Code: poller.OpRecv, Fd: a, Buf: buf})
	h.submit(&r.op)
	h.quiet(10*time.Millisecond, r)
	write(t, b, []byte("late"))
	h.until("recv after data", r.isFinal)
	if n := r.ok(); string(buf[:n]) != "late" {
		t.Fatalf("recv %q, want %q", buf[:n], "late")
	}
}

// testMsgDontWait: a recv with MsgDontWait and nothing to read completes at once with
// EAGAIN instead of waiting; with data ready it takes the data.
func testMsgDontWait(t *testing.T, nd NewDriver) {
	h, fds := start(t, nd), newFDs(t)
	a, b := fds.streamPair()
	buf := make([]byte, 16)
	r := h.run(newRec(t, poller.Op{Code: poller.OpRecv, Fd: a, Buf: buf, Arg: poller.MsgDontWait}))
	wantErrno(t, "recv MsgDontWait with nothing to read", r.only(), syscall.EAGAIN)
	m := h.run(newRec(t, poller.Op{Code: poller.OpRecvmsg, Fd: a, Bufs: [][]byte{buf}, Arg: poller.MsgDontWait}))
	wantErrno(t, "recvmsg MsgDontWait with nothing to read", m.only(), syscall.EAGAIN)
	write(t, b, []byte("now"))
	h.run(newRec(t, poller.Op{Code: poller.OpPoll, Fd: a, Arg: poller.PollIn})).ok()
	r = h.run(newRec(t, poller.Op{Code: poller.OpRecv, Fd: a, Buf: buf, Arg: poller.MsgDontWait}))
	if n := r.ok(); string(buf[:n]) != "now" {
		t.Fatalf("recv MsgDontWait with data: %q, want %q", buf[:n], "now")
	}
	if n := h.run(newRec(t, poller.Op{Code: poller.OpSend, Fd: b, Buf: []byte("x"), Arg: poller.MsgDontWait})).ok(); n != 1 {
		t.Fatalf("send MsgDontWait with room sent %d", n)
	}
	readNow(t, a, buf)
}

func testRecvEOF(t *testing.T, nd NewDriver) {
	h, fds := start(t, nd), newFDs(t)
	a, b := fds.streamPair()
	r := newRec(t, poller.Op{Code: poller.OpRecv, Fd: a, Buf: make([]byte, 8)})
	h.submit(&r.op)
	h.quiet(2*time.Millisecond, r)
	fds.close(b)
	h.until("recv at EOF", r.isFinal)
	if n := r.ok(); n != 0 {
		t.Fatalf("recv at EOF returned %d, want 0", n)
	}
}

func testBadFd(t *testing.T, nd NewDriver) {
	h, fds := start(t, nd), newFDs(t)
	r := fds.closedFd()
	rd := h.run(newRec(t, poller.Op{Code: poller.OpRead, Fd: r, Buf: make([]byte, 8), Offset: -1}))
	wantErrno(t, "read on a closed fd", rd.only(), errBadFd...)
	neg := h.run(newRec(t, poller.Op{Code: poller.OpRecv, Fd: -1, Buf: make([]byte, 8)}))
	wantErrno(t, "recv on fd -1", neg.only(), errBadFd...)
}

func testAcceptConnect(t *testing.T, nd NewDriver) {
	h, fds := start(t, nd), newFDs(t)
	lfd, laddr := fds.listener()
	var peer poller.Sockaddr
	peer.Len = uint32(len(peer.Raw))
	acc := newRec(t, poller.Op{Code: poller.OpAccept, Fd: lfd, Addr: &peer, Arg: poller.SockNonblock | poller.SockCloexec})
	h.submit(&acc.op)
	cfd := fds.tcpSocket()
	con := newRec(t, poller.Op{Code: poller.OpConnect, Fd: cfd, Addr: laddr})
	h.submit(&con.op)
	h.until("accept and connect", func() bool { return acc.final && con.final })
	con.ok()
	sfd := fds.add(acc.ok())
	if got, want := portOf(&peer), portOf(fds.localAddr(cfd)); got != want {
		t.Fatalf("accepted peer port %d, client's port %d", got, want)
	}
	snd := h.run(newRec(t, poller.Op{Code: poller.OpSend, Fd: cfd, Buf: []byte("ping")}))
	snd.ok()
	buf := make([]byte, 8)
	rcv := h.run(newRec(t, poller.Op{Code: poller.OpRecv, Fd: sfd, Buf: buf}))
	if n := rcv.ok(); string(buf[:n]) != "ping" {
		t.Fatalf("recv %q", buf[:n])
	}
}

func testConnectRefused(t *testing.T, nd NewDriver) {
	h, fds := start(t, nd), newFDs(t)
	lfd, addr := fds.listener()
	fds.close(lfd) // nothing listens on addr now
	cfd := fds.tcpSocket()
	r := h.run(newRec(t, poller.Op{Code: poller.OpConnect, Fd: cfd, Addr: addr}))
	wantErrno(t, "connect to a closed port", r.only(), errConnRefused...)
}

func testSendmsgRecvmsg(t *testing.T, nd NewDriver) {
	h, fds := start(t, nd), newFDs(t)
	a, aaddr := fds.udp()
	b, baddr := fds.udp()
	snd := h.run(newRec(t, poller.Op{Code: poller.OpSendmsg, Fd: a, Addr: baddr,
		Bufs: [][]byte{[]byte("two "), []byte("parts")}}))
	if n := snd.ok(); n != 9 {
		t.Fatalf("sendmsg sent %d, want 9", n)
	}
	var from poller.Sockaddr
	from.Len = uint32(len(from.Raw))
	p1, p2 := make([]byte, 3), make([]byte, 16)
	rcv := h.run(newRec(t, poller.Op{Code: poller.OpRecvmsg, Fd: b, Addr: &from, Bufs: [][]byte{p1, p2}}))
	if n := rcv.ok(); n != 9 || string(p1)+string(p2[:n-3]) != "two parts" {
		t.Fatalf("recvmsg got %d bytes %q %q", n, p1, p2)
	}
	if portOf(&from) != portOf(aaddr) {
		t.Fatalf("recvmsg source port %d, want %d", portOf(&from), portOf(aaddr))
	}
}

func testShutdown(t *testing.T, nd NewDriver) {
	h, fds := start(t, nd), newFDs(t)
	c, s := fds.tcpPair()
	h.run(newRec(t, poller.Op{Code: poller.OpShutdown, Fd: c, Arg: poller.ShutWr})).ok()
	r := h.run(newRec(t, poller.Op{Code: poller.OpRecv, Fd: s, Buf: make([]byte, 8)}))
	if n := r.ok(); n != 0 {
		t.Fatalf("recv after peer's shutdown: %d, want 0 (EOF)", n)
	}
	// The other direction still works after a half-close.
	write(t, s, []byte("back"))
	buf := make([]byte, 8)
	r2 := h.run(newRec(t, poller.Op{Code: poller.OpRecv, Fd: c, Buf: buf}))
	if n := r2.ok(); string(buf[:n]) != "back" {
		t.Fatalf("recv on half-closed socket: %q", buf[:n])
	}
}

func testPoll(t *testing.T, nd NewDriver) {
	h, fds := start(t, nd), newFDs(t)
	r, w := fds.pipe()
	one := newRec(t, poller.Op{Code: poller.OpPoll, Fd: r, Arg: poller.PollIn})
	h.submit(&one.op)
	h.quiet(2*time.Millisecond, one)
	write(t, w, []byte("x"))
	h.until("poll", one.isFinal)
	if ev := one.ok(); ev&poller.PollIn == 0 {
		t.Fatalf("poll revents %#x lack POLLIN", ev)
	}
	readNow(t, r, make([]byte, 8))
}

func testCancelRecv(t *testing.T, nd NewDriver) {
	h, fds := start(t, nd), newFDs(t)
	a, _ := fds.streamPair()
	r := newRec(t, poller.Op{Code: poller.OpRecv, Fd: a, Buf: make([]byte, 8)})
	h.submit(&r.op)
	h.quiet(2*time.Millisecond, r)
	fatalIf(t, h.d.Cancel(&r.op), "Cancel")
	h.until("cancelled recv", r.isFinal)
	wantErrno(t, "cancelled recv", r.only(), syscall.ECANCELED)
}

// testCancelRace races data arrival with cancellation: either outcome is allowed, but the
// op completes exactly once and no byte is lost (C3).
func testCancelRace(t *testing.T, nd NewDriver) {
	h, fds := start(t, nd), newFDs(t)
	a, b := fds.streamPair()
	buf := make([]byte, 1)
	var won, cancelled int
	cancel := func(r *rec) {
		if err := h.d.Cancel(&r.op); err != nil && err != poller.ErrNotInFlight {
			t.Fatalf("Cancel: %v", err)
		}
	}
	for i := 0; i < 500; i++ {
		r := newRec(t, poller.Op{Code: poller.OpRecv, Fd: a, Buf: buf})
		h.submit(&r.op)
		if _, err := h.d.Wait(0); err != nil { // the recv is now waiting in the driver
			t.Fatal(err)
		}
		switch i % 3 {
		case 0: // data first, then the cancel: the result usually wins
			write(t, b, []byte{byte(i)})
			cancel(r)
		case 1: // the cancel reaches the driver before the data: usually cancelled
			cancel(r)
			if _, err := h.d.Wait(0); err != nil {
				t.Fatal(err)
			}
			write(t, b, []byte{byte(i)})
		default: // both queued together
			cancel(r)
			write(t, b, []byte{byte(i)})
		}
		h.until("recv or its cancellation", r.isFinal)
		c := r.only()
		switch {
		case c.Res == 1:
			won++
			if buf[0] != byte(i) {
				t.Fatalf("iteration %d: read byte %d", i, buf[0])
			}
		case c.err() == syscall.ECANCELED:
			cancelled++
			var one [1]byte
			if n := readNow(t, a, one[:]); n != 1 || one[0] != byte(i) {
				t.Fatalf("iteration %d: byte lost after cancellation", i)
			}
		default:
			t.Fatalf("iteration %d: unexpected result %d", i, c.Res)
		}
	}
	t.Logf("result won %d times, cancellation %d times", won, cancelled)
	// With a kernel submission thread the cancel reaches the kernel later than Wait
	// returns, so the result may always win; without one, both outcomes must occur.
	if (won == 0 || cancelled == 0) && !h.features().Has(poller.FeatSQPoll) {
		t.Errorf("the race never went both ways (won %d, cancelled %d): the scenario tests nothing", won, cancelled)
	}
}

func testOpTimeoutExpires(t *testing.T, nd NewDriver) {
	h, fds := start(t, nd), newFDs(t)
	a, _ := fds.streamPair()
	begin := time.Now()
	r := h.run(newRec(t, poller.Op{Code: poller.OpRecv, Fd: a, Buf: make([]byte, 8), Timeout: 20 * time.Millisecond}))
	wantErrno(t, "recv past its timeout", r.only(), poller.ETIME)
	if el := time.Since(begin); el < 19*time.Millisecond {
		t.Fatalf("20ms op timeout fired after %v", el)
	}
}

func testOpTimeoutResultWins(t *testing.T, nd NewDriver) {
	h, fds := start(t, nd), newFDs(t)
	a, b := fds.streamPair()
	buf := make([]byte, 8)
	r := newRec(t, poller.Op{Code: poller.OpRecv, Fd: a, Buf: buf, Timeout: time.Hour})
	h.submit(&r.op)
	h.quiet(2*time.Millisecond, r)
	write(t, b, []byte("in time"))
	h.until("recv before its timeout", r.isFinal)
	if n := r.ok(); string(buf[:n]) != "in time" {
		t.Fatalf("recv %q", buf[:n])
	}
	// No stray completion of the op's timer arrives later.
	h.quiet(5 * time.Millisecond)
	if len(r.got) != 1 {
		t.Fatalf("%d completions", len(r.got))
	}
}

// testCloseFdDrains checks C4: OpClose cancels the ops in flight on the descriptor and
// completes only after them; the descriptor is closed afterwards.
func testCloseFdDrains(t *testing.T, nd NewDriver) {
	h, fds := start(t, nd), newFDs(t)
	a, _ := fds.streamPair()
	var order []string
	recv := newRec(t, poller.Op{Code: poller.OpRecv, Fd: a, Buf: make([]byte, 8)})
	recv.op.Done = func(op *poller.Op) { order = append(order, "recv"); recv.done(op) }
	poll := newRec(t, poller.Op{Code: poller.OpPoll, Fd: a, Arg: poller.PollIn})
	poll.op.Done = func(op *poller.Op) { order = append(order, "poll"); poll.done(op) }
	h.submit(&recv.op)
	h.submit(&poll.op)
	h.quiet(2*time.Millisecond, recv, poll)
	cl := newRec(t, poller.Op{Code: poller.OpClose, Fd: a})
	cl.op.Done = func(op *poller.Op) { order = append(order, "close"); cl.done(op) }
	fds.forget(a)
	open := openCheck(a)
	h.run(cl).ok()
	if len(order) != 3 || order[2] != "close" {
		t.Fatalf("completion order %v, want the close last", order)
	}
	wantErrno(t, "recv on a closed fd", recv.only(), syscall.ECANCELED)
	wantErrno(t, "poll on a closed fd", poll.only(), syscall.ECANCELED)
	if open() {
		t.Fatal("descriptor still open after OpClose completed")
	}
}

func testCloseWithIO(t *testing.T, nd NewDriver) {
	h, fds := start(t, nd), newFDs(t)
	lfd, _ := fds.listener()
	acc := newRec(t, poller.Op{Code: poller.OpAccept, Fd: lfd, Flags: poller.FlagMultishot})
	h.submit(&acc.op)
	var recs = []*rec{acc}
	for i := 0; i < 8; i++ {
		a, _ := fds.streamPair()
		r := newRec(t, poller.Op{Code: poller.OpRecv, Fd: a, Buf: make([]byte, 8)})
		h.submit(&r.op)
		recs = append(recs, r)
	}
	h.quiet(2*time.Millisecond, recs...)
	h.close()
	for _, r := range recs {
		if !r.final {
			t.Fatalf("%v not completed by Close", r.op.Code)
		}
		wantErrno(t, r.op.Code.String()+" at Close", r.only(), syscall.ECANCELED)
	}
}

// testRecvCustodyUnderGC keeps receive buffers reachable only through the driver while
// the collector runs, then fills them (docs/RELIABILITY.md trap 1).
func testRecvCustodyGC(t *testing.T, nd NewDriver) {
	h, fds := start(t, nd), newFDs(t)
	const n = 64
	peers := make([]int, n)
	got := 0
	for i := range peers {
		a, b := fds.streamPair()
		peers[i] = b
		op := &poller.Op{Code: poller.OpRecv, Fd: a, Buf: make([]byte, 4096), Offset: int64(i)}
		op.Done = func(o *poller.Op) {
			want := fmt.Sprintf("stream %d", o.Offset)
			if o.Res < 0 || string(o.Buf[:o.Res]) != want {
				t.Errorf("op %d: got %q (res %d), want %q", o.Offset, o.Buf[:max(o.Res, 0)], o.Res, want)
			}
			got++
		}
		h.submit(op)
	}
	h.quiet(2 * time.Millisecond)
	for i := 0; i < 3; i++ {
		runtime.GC()
		_ = make([]byte, 1<<20)
	}
	for i, b := range peers {
		write(t, b, []byte(fmt.Sprintf("stream %d", i)))
	}
	h.until("every recv after GC", func() bool { return got == n })
}

func testSendZC(t *testing.T, nd NewDriver) {
	h, fds := start(t, nd), newFDs(t)
	h.require(poller.FeatSendZC)
	c, s := fds.tcpPair()
	msg := bytes.Repeat([]byte("z"), 64<<10)
	r := newRec(t, poller.Op{Code: poller.OpSendZC, Fd: c, Buf: msg})
	h.submit(&r.op)
	h.until("send_zc result and notification", r.isFinal)
	if len(r.got) != 2 || r.got[0].Flags&poller.ResMore == 0 || r.got[1].Flags&poller.ResNotif == 0 {
		t.Fatalf("send_zc completions %+v, want a result with ResMore then a ResNotif", r.got)
	}
	if r.got[0].Res <= 0 {
		t.Fatalf("send_zc result %d", r.got[0].Res)
	}
	total, buf := 0, make([]byte, 64<<10)
	for total < int(r.got[0].Res) {
		total += readNow(t, s, buf)
	}
}

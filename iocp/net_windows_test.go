package iocp_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/zokio/zokio/iocp"
	"github.com/zokio/zokio/poller"
)

// tcpPair connects two sockets through the driver (ConnectEx and AcceptEx).
func tcpPair(t *testing.T, d *iocp.Driver) (client, server windows.Handle) {
	t.Helper()
	l, addr := listener(t)
	t.Cleanup(func() { windows.Closesocket(l) })
	acc := newRec(poller.Op{Code: poller.OpAccept, Fd: int(l)})
	if err := d.Submit(&acc.op); err != nil {
		t.Fatal(err)
	}
	c := socket(t)
	if res := run(t, d, newRec(poller.Op{Code: poller.OpConnect, Fd: int(c), Addr: addr})); res != 0 {
		t.Fatalf("connect: %v", syscall.Errno(-res))
	}
	until(t, d, "accept", func() bool { return acc.fin })
	if acc.res[0] < 0 {
		t.Fatalf("accept: %v", syscall.Errno(-acc.res[0]))
	}
	return c, windows.Handle(acc.res[0])
}

func wantErr(t *testing.T, what string, res int32, want syscall.Errno) {
	t.Helper()
	if res >= 0 || !errors.Is(syscall.Errno(-res), want) {
		t.Fatalf("%s: res %d (%v), want %v", what, res, syscall.Errno(-max(-res, 0)), want)
	}
}

func errOf(res int32) error {
	if res >= 0 {
		return nil
	}
	return syscall.Errno(-res)
}

func TestConnectRefused(t *testing.T) {
	d := newDriver(t)
	l, addr := listener(t)
	windows.Closesocket(l) // nothing listens on addr now
	c := socket(t)
	res := run(t, d, newRec(poller.Op{Code: poller.OpConnect, Fd: int(c), Addr: addr}))
	wantErr(t, "connect to a closed port", res, syscall.ECONNREFUSED)
	closeOp(t, d, c)
}

func TestMultishotAccept(t *testing.T) {
	d := newDriver(t)
	l, addr := listener(t)
	acc := newRec(poller.Op{Code: poller.OpAccept, Fd: int(l), Flags: poller.FlagMultishot})
	if err := d.Submit(&acc.op); err != nil {
		t.Fatal(err)
	}
	var clients []windows.Handle
	for i := 0; i < 3; i++ {
		c := socket(t)
		clients = append(clients, c)
		if res := run(t, d, newRec(poller.Op{Code: poller.OpConnect, Fd: int(c), Addr: addr})); res != 0 {
			t.Fatalf("connect %d: %v", i, errOf(res))
		}
	}
	until(t, d, "three accepts", func() bool { return len(acc.res) >= 3 })
	if err := d.Cancel(&acc.op); err != nil {
		t.Fatal(err)
	}
	until(t, d, "the final accept completion", func() bool { return acc.fin })
	last := acc.res[len(acc.res)-1]
	wantErr(t, "cancelled multishot accept", last, syscall.ECANCELED)
	for _, fd := range acc.res[:len(acc.res)-1] {
		if fd < 0 {
			t.Fatalf("accept failed: %v", errOf(fd))
		}
		closeOp(t, d, windows.Handle(fd))
	}
	for _, c := range clients {
		closeOp(t, d, c)
	}
	closeOp(t, d, l)
}

func TestMultishotRecvBuffers(t *testing.T) {
	d := newDriver(t)
	c, s := tcpPair(t, d)
	g, err := d.NewBufferGroup(4, 8)
	if err != nil {
		t.Fatal(err)
	}
	r := newRec(poller.Op{Code: poller.OpRecv, Fd: int(s), Flags: poller.FlagMultishot | poller.FlagBufferSelect, Group: g.ID()})
	var got []byte
	r.op.Done = func(op *poller.Op) {
		r.res = append(r.res, op.Res)
		if b := op.Received(g); b != nil {
			got = append(got, b...)
			g.Release(op.BufID)
		}
		if !op.More() {
			r.fin = true
		}
	}
	if err := d.Submit(&r.op); err != nil {
		t.Fatal(err)
	}
	msg := []byte("twenty bytes of data")
	if res := run(t, d, newRec(poller.Op{Code: poller.OpSend, Fd: int(c), Buf: msg})); int(res) != len(msg) {
		t.Fatalf("send = %d", res)
	}
	until(t, d, "all the data", func() bool { return len(got) >= len(msg) })
	if !bytes.Equal(got, msg) {
		t.Fatalf("received %q", got)
	}
	if res := run(t, d, newRec(poller.Op{Code: poller.OpShutdown, Fd: int(c), Arg: windows.SHUT_WR})); res != 0 {
		t.Fatalf("shutdown: %v", errOf(res))
	}
	until(t, d, "the end of the stream", func() bool { return r.fin })
	if last := r.res[len(r.res)-1]; last != 0 {
		t.Fatalf("final completion %d, want 0 (EOF)", last)
	}
	if g.(interface{ Available() int }).Available() != 4 {
		t.Fatal("buffers not all back in the group")
	}
	closeOp(t, d, s)
	closeOp(t, d, c)
}

func TestMultishotRecvNoBuffers(t *testing.T) {
	d := newDriver(t)
	c, s := tcpPair(t, d)
	g, err := d.NewBufferGroup(1, 4)
	if err != nil {
		t.Fatal(err)
	}
	r := newRec(poller.Op{Code: poller.OpRecv, Fd: int(s), Flags: poller.FlagMultishot | poller.FlagBufferSelect, Group: g.ID()})
	if err := d.Submit(&r.op); err != nil {
		t.Fatal(err)
	}
	if res := run(t, d, newRec(poller.Op{Code: poller.OpSend, Fd: int(c), Buf: []byte("abcdkept")})); res != 8 {
		t.Fatalf("send = %d", res)
	}
	until(t, d, "ENOBUFS", func() bool { return r.fin })
	wantErr(t, "multishot recv with its one buffer out", r.res[len(r.res)-1], syscall.ENOBUFS)
	buf := make([]byte, 8)
	if res := run(t, d, newRec(poller.Op{Code: poller.OpRecv, Fd: int(s), Buf: buf})); string(buf[:max(res, 0)]) != "kept" {
		t.Fatalf("after ENOBUFS the socket held %q", buf[:max(res, 0)])
	}
	closeOp(t, d, s)
	closeOp(t, d, c)
}

func TestPoll(t *testing.T) {
	d := newDriver(t)
	c, s := tcpPair(t, d)
	const pollIn, pollOut = 0x1, 0x4
	if res := run(t, d, newRec(poller.Op{Code: poller.OpPoll, Fd: int(c), Arg: pollOut})); res&pollOut == 0 {
		t.Fatalf("poll for writing: %#x (%v)", res, errOf(res))
	}
	p := newRec(poller.Op{Code: poller.OpPoll, Fd: int(s), Arg: pollIn, Flags: poller.FlagMultishot})
	if err := d.Submit(&p.op); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Wait(50 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if len(p.res) != 0 {
		t.Fatalf("poll fired with no data: %v", p.res)
	}
	if res := run(t, d, newRec(poller.Op{Code: poller.OpSend, Fd: int(c), Buf: []byte("x")})); res != 1 {
		t.Fatalf("send = %d", res)
	}
	until(t, d, "a poll event", func() bool { return len(p.res) > 0 })
	if p.res[0]&pollIn == 0 || p.fin {
		t.Fatalf("multishot poll: %v final %v", p.res, p.fin)
	}
	if err := d.Cancel(&p.op); err != nil {
		t.Fatal(err)
	}
	until(t, d, "the final poll completion", func() bool { return p.fin })
	wantErr(t, "cancelled poll", p.res[len(p.res)-1], syscall.ECANCELED)
	closeOp(t, d, s)
	closeOp(t, d, c)
}

func TestCloseDrainsPending(t *testing.T) {
	d := newDriver(t)
	c, s := tcpPair(t, d)
	buf := make([]byte, 16)
	r := newRec(poller.Op{Code: poller.OpRecv, Fd: int(s), Buf: buf})
	p := newRec(poller.Op{Code: poller.OpPoll, Fd: int(s), Arg: 0x1})
	for _, op := range []*poller.Op{&r.op, &p.op} {
		if err := d.Submit(op); err != nil {
			t.Fatal(err)
		}
	}
	cl := newRec(poller.Op{Code: poller.OpClose, Fd: int(s)})
	if err := d.Submit(&cl.op); err != nil {
		t.Fatal(err)
	}
	late := newRec(poller.Op{Code: poller.OpRecv, Fd: int(s), Buf: buf})
	if err := d.Submit(&late.op); err != nil {
		t.Fatal(err)
	}
	until(t, d, "close", func() bool { return cl.fin && r.fin && p.fin && late.fin })
	wantErr(t, "recv drained by close", r.res[0], syscall.ECANCELED)
	wantErr(t, "poll drained by close", p.res[0], syscall.ECANCELED)
	wantErr(t, "recv submitted while the close is pending", late.res[0], syscall.EBADF)
	if cl.res[0] != 0 {
		t.Fatalf("close: %v", errOf(cl.res[0]))
	}
	// No second close of s to see EBADF: Windows hands a closed handle's value out again
	// at once, to the runtime's and Wine's threads too, and that close would close
	// their handle. The conformance suite's CloseFdDrainsOps checks that the socket
	// itself is closed.
	closeOp(t, d, c)
}

func TestOpTimeout(t *testing.T) {
	d := newDriver(t)
	c, s := tcpPair(t, d)
	buf := make([]byte, 16)
	res := run(t, d, newRec(poller.Op{Code: poller.OpRecv, Fd: int(s), Buf: buf, Timeout: 30 * time.Millisecond}))
	wantErr(t, "recv with a timeout and no data", res, poller.ETIME)
	closeOp(t, d, s)
	closeOp(t, d, c)
}

func TestDriverCloseCancelsEverything(t *testing.T) {
	d, err := iocp.New()
	if err != nil {
		t.Fatal(err)
	}
	c, s := tcpPair(t, d)
	l, _ := listener(t)
	defer windows.Closesocket(l)
	g, err := d.NewBufferGroup(2, 64)
	if err != nil {
		t.Fatal(err)
	}
	recs := []*rec{
		newRec(poller.Op{Code: poller.OpRecv, Fd: int(s), Buf: make([]byte, 8)}),
		newRec(poller.Op{Code: poller.OpAccept, Fd: int(l), Flags: poller.FlagMultishot}),
		newRec(poller.Op{Code: poller.OpPoll, Fd: int(c), Arg: 0x1, Flags: poller.FlagMultishot}),
		newRec(poller.Op{Code: poller.OpRecv, Fd: int(c), Flags: poller.FlagMultishot | poller.FlagBufferSelect, Group: g.ID()}),
		newRec(poller.Op{Code: poller.OpTimeout, Timeout: time.Hour}),
	}
	for _, r := range recs {
		if err := d.Submit(&r.op); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if !r.fin || len(r.res) != 1 {
			t.Fatalf("%v: completions %v, final %v", r.op.Code, r.res, r.fin)
		}
		wantErr(t, r.op.Code.String()+" at Close", r.res[0], syscall.ECANCELED)
	}
	if err := d.Submit(&recs[0].op); !errors.Is(err, poller.ErrClosed) {
		t.Fatalf("Submit after Close: %v", err)
	}
	windows.Closesocket(c)
	windows.Closesocket(s)
}

func udpSocket(t *testing.T) (windows.Handle, *poller.Sockaddr) {
	t.Helper()
	u, err := windows.WSASocket(windows.AF_INET, windows.SOCK_DGRAM, windows.IPPROTO_UDP, nil, 0, windows.WSA_FLAG_OVERLAPPED)
	if err != nil {
		t.Fatal(err)
	}
	if err := windows.Bind(u, &windows.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	sa, err := windows.Getsockname(u)
	if err != nil {
		t.Fatal(err)
	}
	return u, sockaddr(sa.(*windows.SockaddrInet4).Port)
}

func TestUDPSendmsgRecvmsg(t *testing.T) {
	d := newDriver(t)
	a, aAddr := udpSocket(t)
	b, bAddr := udpSocket(t)
	msg := []byte("datagram")
	send := newRec(poller.Op{Code: poller.OpSendmsg, Fd: int(a), Bufs: [][]byte{msg[:4], msg[4:]}, Addr: bAddr})
	if res := run(t, d, send); int(res) != len(msg) {
		t.Fatalf("sendmsg = %d (%v)", res, errOf(res))
	}
	buf := make([]byte, 32)
	from := new(poller.Sockaddr)
	recv := newRec(poller.Op{Code: poller.OpRecvmsg, Fd: int(b), Bufs: [][]byte{buf}, Addr: from})
	if res := run(t, d, recv); !bytes.Equal(buf[:max(res, 0)], msg) {
		t.Fatalf("recvmsg = %d %q (%v)", res, buf[:max(res, 0)], errOf(res))
	}
	if from.Len == 0 || !bytes.Equal(from.Raw[:8], aAddr.Raw[:8]) {
		t.Fatalf("recvmsg source %v, want %v", from.Raw[:8], aAddr.Raw[:8])
	}
	// A datagram larger than the buffer is cut, and says so.
	run(t, d, newRec(poller.Op{Code: poller.OpSendmsg, Fd: int(a), Bufs: [][]byte{msg}, Addr: bAddr}))
	small := make([]byte, 3)
	recv = newRec(poller.Op{Code: poller.OpRecvmsg, Fd: int(b), Bufs: [][]byte{small}})
	var flags int32
	recv.op.Done = func(op *poller.Op) { recv.res, recv.fin, flags = append(recv.res, op.Res), true, op.MsgFlags }
	if res := run(t, d, recv); res != 3 || flags&windows.MSG_TRUNC == 0 {
		t.Fatalf("truncated recvmsg = %d (%v), flags %#x", res, errOf(res), flags)
	}
	closeOp(t, d, a)
	closeOp(t, d, b)
}

func TestSocketVectored(t *testing.T) {
	d := newDriver(t)
	c, s := tcpPair(t, d)
	if res := run(t, d, newRec(poller.Op{Code: poller.OpWritev, Fd: int(c), Bufs: [][]byte{[]byte("ab"), nil, []byte("cde")}})); res != 5 {
		t.Fatalf("writev = %d (%v)", res, errOf(res))
	}
	x, y := make([]byte, 2), make([]byte, 8)
	got := 0
	for got < 5 {
		res := run(t, d, newRec(poller.Op{Code: poller.OpReadv, Fd: int(s), Bufs: [][]byte{x, y}}))
		if res <= 0 {
			t.Fatalf("readv = %d (%v)", res, errOf(res))
		}
		got += int(res)
	}
	if string(x)+string(y[:3]) != "abcde" {
		t.Fatalf("readv got %q %q", x, y)
	}
	closeOp(t, d, s)
	closeOp(t, d, c)
}

func TestCancelRace(t *testing.T) {
	d := newDriver(t)
	c, s := tcpPair(t, d)
	buf := make([]byte, 4)
	for i := 0; i < 50; i++ {
		r := newRec(poller.Op{Code: poller.OpRecv, Fd: int(s), Buf: buf})
		if err := d.Submit(&r.op); err != nil {
			t.Fatal(err)
		}
		if res := run(t, d, newRec(poller.Op{Code: poller.OpSend, Fd: int(c), Buf: []byte("z")})); res != 1 {
			t.Fatalf("send = %d", res)
		}
		if err := d.Cancel(&r.op); err != nil && !errors.Is(err, poller.ErrNotInFlight) {
			t.Fatal(err)
		}
		until(t, d, "the recv", func() bool { return r.fin })
		switch res := r.res[0]; {
		case len(r.res) != 1:
			t.Fatalf("%d completions", len(r.res))
		case res == 1:
		case res < 0 && errors.Is(errOf(res), syscall.ECANCELED):
			// Cancelled before the byte arrived: it is still in the socket.
			if res := run(t, d, newRec(poller.Op{Code: poller.OpRecv, Fd: int(s), Buf: buf})); res != 1 {
				t.Fatalf("the byte a cancelled recv left: %d", res)
			}
		default:
			t.Fatalf("recv = %d (%v)", res, errOf(res))
		}
	}
	closeOp(t, d, s)
	closeOp(t, d, c)
}

// TestSockaddrLayout: the Sockaddr a test builds is Winsock's sockaddr_in.
func TestSockaddrLayout(t *testing.T) {
	a := sockaddr(0x1234)
	if binary.LittleEndian.Uint16(a.Raw[:2]) != windows.AF_INET || a.Raw[2] != 0x12 || a.Len != uint32(unsafe.Sizeof(windows.RawSockaddrInet4{})) {
		t.Fatalf("sockaddr %v len %d", a.Raw[:8], a.Len)
	}
}

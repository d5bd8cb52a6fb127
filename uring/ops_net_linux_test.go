package uring

import (
	"bytes"
	"fmt"
	"runtime"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

func TestOpAcceptConnect(t *testing.T) {
	r := newRing(t, Config{Entries: 4})
	ln, sa := tcpListener(t)
	client := tcpSocket(t)
	var peer unix.RawSockaddrAny
	peerLen := uint32(unsafe.Sizeof(peer))
	s := sqe(t, r)
	s.PrepAccept(ln, &peer, &peerLen, unix.SOCK_CLOEXEC)
	s.SetUserData(1)
	raw := rawInet4(sa)
	s = sqe(t, r)
	s.PrepConnect(client, unsafe.Pointer(raw), unix.SizeofSockaddrInet4)
	s.SetUserData(2)
	got := byUserData(t, reap(t, r, 2))
	wantRes(t, got[2], 0)
	if got[1].Res < 0 {
		t.Fatalf("accept: %v", got[1].Err())
	}
	unix.Close(int(got[1].Res))
	if peer.Addr.Family != unix.AF_INET || peerLen != unix.SizeofSockaddrInet4 {
		t.Fatalf("peer family %d len %d", peer.Addr.Family, peerLen)
	}
	runtime.KeepAlive(raw)
}

// TestOpMultishotAccept accepts three connections with one SQE, then
// cancels it: the last CQE lacks CQEFlagMore.
func TestOpMultishotAccept(t *testing.T) {
	r := newRing(t, Config{Entries: 4})
	ln, sa := tcpListener(t)
	s := sqe(t, r)
	s.PrepMultishotAccept(ln, nil, nil, unix.SOCK_CLOEXEC)
	s.SetUserData(1)
	if _, err := r.Submit(); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := unix.Connect(tcpSocket(t), sa); err != nil {
			t.Fatal(err)
		}
		c := reapOne(t, r, 1)
		if c.Res < 0 || !c.Flags.More() {
			t.Fatalf("connection %d: %+v", i, c)
		}
		unix.Close(int(c.Res))
	}
	s = sqe(t, r)
	s.PrepCancel(1, 0)
	s.SetUserData(2)
	got := byUserData(t, reap(t, r, 2))
	wantRes(t, got[2], 0)
	if c := got[1]; c.Res != errnoRes(unix.ECANCELED) || c.Flags.More() {
		t.Fatalf("final accept CQE %+v", c)
	}
}

func TestOpSendRecv(t *testing.T) {
	r := newRing(t, Config{Entries: 4})
	a, b := socketPair(t, unix.SOCK_STREAM)
	buf := make([]byte, 16)
	s := sqe(t, r)
	s.PrepRecv(b, buf, 0)
	s.SetUserData(1)
	msg := []byte("ping")
	s = sqe(t, r)
	s.PrepSend(a, msg, unix.MSG_NOSIGNAL)
	s.SetUserData(2)
	got := byUserData(t, reap(t, r, 2))
	wantRes(t, got[2], 4)
	wantRes(t, got[1], 4)
	if string(buf[:4]) != "ping" {
		t.Fatalf("recv %q", buf[:4])
	}
	runtime.KeepAlive(msg)
}

// bufPool is a buffer ring and the Go memory its entries point to.
type bufPool struct {
	br   *BufRing
	bufs [][]byte
}

func newBufPool(t *testing.T, r *Ring, n int, size int, group uint16, f BufRingFlags) *bufPool {
	t.Helper()
	br, err := r.SetupBufRing(uint32(n), group, f)
	if err != nil {
		t.Fatalf("SetupBufRing: %v", err)
	}
	p := &bufPool{br: br, bufs: make([][]byte, n)}
	for i := range p.bufs {
		p.bufs[i] = make([]byte, size)
		br.Add(p.bufs[i], uint16(i), i)
	}
	br.Advance(n)
	t.Cleanup(func() {
		if err := br.Free(); err != nil {
			t.Errorf("Free: %v", err)
		}
		runtime.KeepAlive(p.bufs)
	})
	return p
}

// data returns the bytes a CQE delivered into its provided buffer.
func (p *bufPool) data(t *testing.T, c CQE) []byte {
	t.Helper()
	if c.Res < 0 || !c.Flags.HasBuffer() {
		t.Fatalf("CQE without buffer: %+v", c)
	}
	return p.bufs[c.BufID()][:c.Res]
}

// TestOpRecvMultishot receives into provided buffers until the group runs
// dry (-ENOBUFS ends the stream), re-arms, and ends again on peer close.
func TestOpRecvMultishot(t *testing.T) {
	r := newRing(t, Config{Entries: 4})
	p := newBufPool(t, r, 4, 8, 7, 0)
	a, b := socketPair(t, unix.SOCK_STREAM)
	s := sqe(t, r)
	s.PrepRecvMultishot(a, 0, 7)
	s.SetUserData(1)
	r.Submit()
	for i := range 4 {
		msg := fmt.Sprintf("msg%d", i)
		unix.Write(b, []byte(msg))
		c := reapOne(t, r, 1)
		if got := p.data(t, c); string(got) != msg || !c.Flags.More() {
			t.Fatalf("recv %d: %q, flags %#x", i, got, c.Flags)
		}
	}
	unix.Write(b, []byte("more"))
	if c := reapOne(t, r, 1); c.Res != errnoRes(unix.ENOBUFS) || c.Flags.More() {
		t.Fatalf("dry group: %+v", c)
	}
	// Recycle one buffer and re-arm: the data that found no buffer waits.
	p.br.Add(p.bufs[2], 2, 0)
	p.br.Advance(1)
	s = sqe(t, r)
	s.PrepRecvMultishot(a, 0, 7)
	s.SetUserData(2)
	c := reapOne(t, r, 2)
	if got := p.data(t, c); string(got) != "more" || c.BufID() != 2 || !c.Flags.More() {
		t.Fatalf("after re-arm: %q %+v", got, c)
	}
	// Even end-of-file takes a buffer: with the group empty, the peer's
	// close would end the stream with -ENOBUFS instead of 0.
	p.br.Add(p.bufs[0], 0, 0)
	p.br.Advance(1)
	unix.Shutdown(b, unix.SHUT_WR)
	if c := reapOne(t, r, 2); c.Res != 0 || c.Flags.More() {
		t.Fatalf("on peer close: %+v", c)
	}
}

// TestOpRecvBufferSelect takes one buffer for a single-shot recv, from a
// kernel-allocated (BufRingMmap) ring.
func TestOpRecvBufferSelect(t *testing.T) {
	r := newRing(t, Config{Entries: 4})
	p := newBufPool(t, r, 2, 32, 9, BufRingMmap)
	a, b := socketPair(t, unix.SOCK_STREAM)
	unix.Write(b, []byte("selected"))
	s := sqe(t, r)
	s.PrepRecv(a, nil, 0)
	s.SetFlags(SQEBufferSelect)
	s.SetBufGroup(9)
	s.SetUserData(1)
	c := reapOne(t, r, 1)
	if got := p.data(t, c); string(got) != "selected" || c.Flags.More() {
		t.Fatalf("recv %q %+v", got, c)
	}
}

// TestBufRingIncremental fills one buffer over several receives.
func TestBufRingIncremental(t *testing.T) {
	r := newRing(t, Config{Entries: 4})
	p := newBufPool(t, r, 1, 64, 11, BufRingInc)
	a, b := socketPair(t, unix.SOCK_STREAM)
	for i, msg := range []string{"0123456789", "abcdefghij"} {
		unix.Write(b, []byte(msg))
		s := sqe(t, r)
		s.PrepRecv(a, nil, 0)
		s.SetFlags(SQEBufferSelect)
		s.SetBufGroup(11)
		s.SetUserData(uint64(i))
		c := reapOne(t, r, uint64(i))
		if c.Res != 10 || c.BufID() != 0 || !c.Flags.BufMore() {
			t.Fatalf("recv %d: %+v", i, c)
		}
		if got := p.bufs[0][i*10 : i*10+10]; string(got) != msg {
			t.Fatalf("recv %d landed as %q", i, got)
		}
	}
}

func TestOpSendZC(t *testing.T) {
	r := newRing(t, Config{Entries: 4})
	requireOps(t, r, OpSendZC)
	client, server := tcpPair(t)
	data := bytes.Repeat([]byte("z"), 4096)
	s := sqe(t, r)
	s.PrepSendZC(client, data, unix.MSG_NOSIGNAL, SendZCReportUsage)
	s.SetUserData(1)
	res, notif := reapOne(t, r, 1), reapOne(t, r, 1)
	if res.Res != int32(len(data)) || !res.Flags.More() || res.Flags.Notif() {
		t.Fatalf("result CQE %+v", res)
	}
	if !notif.Flags.Notif() || notif.Flags.More() {
		t.Fatalf("notification CQE %+v", notif)
	}
	t.Logf("loopback zero-copy: copied=%v", notif.Res&NotifUsageZCCopied != 0)
	runtime.KeepAlive(data) // custody ends at the notification
	got := make([]byte, len(data))
	for n := 0; n < len(got); {
		k, err := unix.Read(server, got[n:])
		if err != nil || k == 0 {
			t.Fatalf("read: %d, %v", k, err)
		}
		n += k
	}
	if !bytes.Equal(got, data) {
		t.Fatal("payload differs")
	}
}

func TestOpSendmsgRecvmsg(t *testing.T) {
	r := newRing(t, Config{Entries: 4})
	a, b := socketPair(t, unix.SOCK_DGRAM)
	out := []byte("datagram")
	oiov := []unix.Iovec{{Base: &out[0]}}
	oiov[0].SetLen(len(out))
	omsg := &unix.Msghdr{Iov: &oiov[0]}
	omsg.SetIovlen(1)
	in := make([]byte, 32)
	iiov := []unix.Iovec{{Base: &in[0]}}
	iiov[0].SetLen(len(in))
	imsg := &unix.Msghdr{Iov: &iiov[0]}
	imsg.SetIovlen(1)
	s := sqe(t, r)
	s.PrepRecvmsg(b, imsg, 0)
	s.SetUserData(1)
	s = sqe(t, r)
	s.PrepSendmsg(a, omsg, 0)
	s.SetUserData(2)
	got := byUserData(t, reap(t, r, 2))
	wantRes(t, got[2], int32(len(out)))
	wantRes(t, got[1], int32(len(out)))
	if string(in[:len(out)]) != "datagram" {
		t.Fatalf("recvmsg %q", in[:len(out)])
	}
	runtime.KeepAlive(oiov)
	runtime.KeepAlive(iiov)
	runtime.KeepAlive(omsg)
	runtime.KeepAlive(imsg)
}

func udpSocket(t *testing.T) (int, *unix.SockaddrInet4) {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	sa, _ := unix.Getsockname(fd)
	return fd, sa.(*unix.SockaddrInet4)
}

// TestOpRecvmsgMultishot receives datagrams with their source addresses
// into provided buffers and parses the RecvmsgOut layout.
func TestOpRecvmsgMultishot(t *testing.T) {
	r := newRing(t, Config{Entries: 4})
	p := newBufPool(t, r, 4, 256, 3, 0)
	srv, srvAddr := udpSocket(t)
	cli, cliAddr := udpSocket(t)
	msg := &unix.Msghdr{Namelen: unix.SizeofSockaddrInet4}
	s := sqe(t, r)
	s.PrepRecvmsgMultishot(srv, msg, 0, 3)
	s.SetUserData(1)
	r.Submit()
	for i := range 3 {
		payload := fmt.Sprintf("datagram %d", i)
		if err := unix.Sendto(cli, []byte(payload), 0, srvAddr); err != nil {
			t.Fatal(err)
		}
		c := reapOne(t, r, 1)
		m, ok := ParseRecvmsgOut(p.data(t, c), msg)
		if !ok || string(m.Payload) != payload || !c.Flags.More() {
			t.Fatalf("datagram %d: ok %v %+v payload %q", i, ok, m.Out, m.Payload)
		}
		if m.Out.NameLen != unix.SizeofSockaddrInet4 || len(m.Name) != unix.SizeofSockaddrInet4 {
			t.Fatalf("name length %d / %d", m.Out.NameLen, len(m.Name))
		}
		if port := int(m.Name[2])<<8 | int(m.Name[3]); port != cliAddr.Port {
			t.Fatalf("source port %d, want %d", port, cliAddr.Port)
		}
	}
	s = sqe(t, r)
	s.PrepCancel(1, 0)
	s.SetUserData(2)
	got := byUserData(t, reap(t, r, 2))
	if c := got[1]; c.Res != errnoRes(unix.ECANCELED) || c.Flags.More() {
		t.Fatalf("final recvmsg CQE %+v", c)
	}
	if _, ok := ParseRecvmsgOut(make([]byte, 8), msg); ok {
		t.Fatal("ParseRecvmsgOut accepted a short buffer")
	}
	runtime.KeepAlive(msg)
}

func TestOpShutdown(t *testing.T) {
	r := newRing(t, Config{Entries: 4})
	a, b := socketPair(t, unix.SOCK_STREAM)
	s := sqe(t, r)
	s.PrepShutdown(a, unix.SHUT_WR)
	s.SetUserData(1)
	wantRes(t, reapOne(t, r, 1), 0)
	if n, err := unix.Read(b, make([]byte, 4)); n != 0 || err != nil {
		t.Fatalf("read after peer shutdown: %d, %v", n, err)
	}
}

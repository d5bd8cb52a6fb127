package poller

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Socket and pipe I/O through the epoll driver, under each registration mode.

var armModes = []struct {
	name string
	mode armMode
}{{"edge", armEdge}, {"edge-checked", armEdgeChecked}, {"oneshot", armOneshot}}

func forEachMode(t *testing.T, fn func(t *testing.T, cfg EpollConfig)) {
	for _, m := range armModes {
		t.Run(m.name, func(t *testing.T) { fn(t, EpollConfig{mode: m.mode}) })
	}
}

func TestEpollSocketpairRead(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg EpollConfig) {
		d := newTestEpoll(t, cfg)
		a, b := socketpair(t)
		for i := range 3 { // the second and third rounds reuse the registration
			buf := make([]byte, 16)
			r := newRecord(Op{Code: OpRecv, Fd: a, Buf: buf})
			submit(t, d, &r.op)
			msg := fmt.Sprintf("hello %d", i)
			if _, err := unix.Write(b, []byte(msg)); err != nil {
				t.Fatal(err)
			}
			waitUntil(t, d, "recv", r.final)
			if got := r.res(t); int(got) != len(msg) || string(buf[:got]) != msg {
				t.Fatalf("recv = %d %q, want %q", got, buf[:max(got, 0)], msg)
			}
		}
	})
}

// A blocking pipe (no O_NONBLOCK) must not stall the loop: the driver switches it to
// non-blocking mode on first use.
func TestEpollBlockingPipe(t *testing.T) {
	d := newTestEpoll(t, EpollConfig{})
	rfd, wfd := pipe(t)
	buf := make([]byte, 8)
	r := newRecord(Op{Code: OpRead, Fd: rfd, Buf: buf, Offset: -1})
	submit(t, d, &r.op)
	if n, _ := d.Wait(10 * time.Millisecond); n != 0 || r.final() {
		t.Fatalf("read of an empty pipe completed: %+v", r.got)
	}
	w := newRecord(Op{Code: OpWrite, Fd: wfd, Buf: []byte("pipe"), Offset: -1})
	submit(t, d, &w.op)
	waitUntil(t, d, "read and write", func() bool { return r.final() && w.final() })
	if r.res(t) != 4 || w.res(t) != 4 || string(buf[:4]) != "pipe" {
		t.Fatalf("read %d %q, write %d", r.res(t), buf[:4], w.res(t))
	}
	fl, err := unix.FcntlInt(uintptr(rfd), unix.F_GETFL, 0)
	if err != nil || fl&unix.O_NONBLOCK == 0 {
		t.Fatalf("read end flags %#x, %v: want O_NONBLOCK", fl, err)
	}
}

// Sends queued on a full socket go out in submission order, never interleaved.
func TestEpollSendsKeepOrder(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg EpollConfig) {
		d := newTestEpoll(t, cfg)
		a, b := socketpair(t)
		if err := unix.SetsockoptInt(a, unix.SOL_SOCKET, unix.SO_SNDBUF, 4096); err != nil {
			t.Fatal(err)
		}
		const n, size = 8, 64 << 10
		var sends []*record
		var want []byte
		for i := range n {
			p := bytes.Repeat([]byte{byte('A' + i)}, size)
			want = append(want, p...)
			r := newRecord(Op{Code: OpSend, Fd: a, Buf: p, Arg: unix.MSG_WAITALL})
			submit(t, d, &r.op)
			sends = append(sends, r)
		}
		got := make([]byte, 0, len(want))
		buf := make([]byte, 32<<10)
		end := time.Now().Add(testDeadline)
		for len(got) < len(want) && time.Now().Before(end) {
			if _, err := d.Wait(0); err != nil {
				t.Fatal(err)
			}
			m, err := unix.Read(b, buf)
			if err == unix.EAGAIN {
				pfd := []unix.PollFd{{Fd: int32(b), Events: unix.POLLIN}}
				_, _ = unix.Poll(pfd, 1)
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, buf[:m]...)
		}
		waitUntil(t, d, "sends", func() bool { return sends[n-1].final() })
		for i, r := range sends {
			if r.res(t) != size {
				t.Errorf("send %d = %d, want %d", i, r.res(t), size)
			}
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("stream reordered or short: got %d bytes", len(got))
		}
	})
}

func TestEpollRecvWaitAll(t *testing.T) {
	d := newTestEpoll(t, EpollConfig{})
	a, b := socketpair(t)
	buf := make([]byte, 10)
	r := newRecord(Op{Code: OpRecv, Fd: a, Buf: buf, Arg: unix.MSG_WAITALL})
	submit(t, d, &r.op)
	for _, part := range []string{"0123", "456", "789"} {
		if _, err := unix.Write(b, []byte(part)); err != nil {
			t.Fatal(err)
		}
		_, _ = d.Wait(0)
	}
	waitUntil(t, d, "recv", r.final)
	if r.res(t) != 10 || string(buf) != "0123456789" {
		t.Fatalf("recv = %d %q", r.res(t), buf)
	}
}

func listenTCP(t *testing.T) (*net.TCPListener, Sockaddr) {
	t.Helper()
	ln, err := net.ListenTCP("tcp4", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln, sockaddr4(ln.Addr().(*net.TCPAddr).Port)
}

func sockaddr4(port int) Sockaddr {
	var sa Sockaddr
	// SAFETY: Raw is 8-byte aligned and larger than RawSockaddrInet4.
	in := (*unix.RawSockaddrInet4)(unsafe.Pointer(&sa.Raw[0]))
	in.Family = unix.AF_INET
	in.Port = uint16(port>>8) | uint16(port&0xff)<<8
	in.Addr = [4]byte{127, 0, 0, 1}
	sa.Len = unix.SizeofSockaddrInet4
	return sa
}

func tcpSocket(t *testing.T) int {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	closeOnCleanup(t, fd)
	return fd
}

func listenerFD(t *testing.T, ln *net.TCPListener) int {
	t.Helper()
	f, err := ln.File() // a dup, blocking; the driver makes it non-blocking
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return int(f.Fd())
}

func TestEpollTCPAcceptConnectEcho(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg EpollConfig) {
		d := newTestEpoll(t, cfg)
		ln, addr := listenTCP(t)
		lfd := listenerFD(t, ln)
		var peer Sockaddr
		acc := newRecord(Op{Code: OpAccept, Fd: lfd, Addr: &peer, Arg: unix.SOCK_CLOEXEC})
		submit(t, d, &acc.op)
		cfd := tcpSocket(t)
		con := newRecord(Op{Code: OpConnect, Fd: cfd, Addr: &addr})
		submit(t, d, &con.op)
		waitUntil(t, d, "accept and connect", func() bool { return acc.final() && con.final() })
		if con.res(t) != 0 {
			t.Fatalf("connect: %v", con.got[0].Err())
		}
		sfd := int(acc.res(t))
		if sfd < 0 {
			t.Fatalf("accept: %v", acc.got[0].Err())
		}
		closeOnCleanup(t, sfd)
		if peer.Len != unix.SizeofSockaddrInet4 || peer.Raw[4] != 127 {
			t.Fatalf("peer address %d bytes %v", peer.Len, peer.Raw[:8])
		}
		buf := make([]byte, 5)
		rx := newRecord(Op{Code: OpRecv, Fd: sfd, Buf: buf})
		tx := newRecord(Op{Code: OpSend, Fd: cfd, Buf: []byte("hello")})
		submit(t, d, &rx.op)
		submit(t, d, &tx.op)
		waitUntil(t, d, "echo", func() bool { return rx.final() && tx.final() })
		if rx.res(t) != 5 || string(buf) != "hello" {
			t.Fatalf("recv %d %q", rx.res(t), buf)
		}
	})
}

func TestEpollConnectRefused(t *testing.T) {
	d := newTestEpoll(t, EpollConfig{})
	ln, addr := listenTCP(t)
	ln.Close() // nothing listens on addr now
	fd := tcpSocket(t)
	r := newRecord(Op{Code: OpConnect, Fd: fd, Addr: &addr})
	if res := run(t, d, r); res != errnoRes(unix.ECONNREFUSED) {
		t.Fatalf("connect = %d (%v), want ECONNREFUSED", res, r.got[0].Err())
	}
}

// Sendmsg and recvmsg carry a descriptor (SCM_RIGHTS) and report control length.
func TestEpollMsgRights(t *testing.T) {
	d := newTestEpoll(t, EpollConfig{})
	a, b := socketpair(t)
	pr, _ := pipe(t)
	oob := unix.UnixRights(pr)
	tx := newRecord(Op{Code: OpSendmsg, Fd: a, Bufs: [][]byte{[]byte("fd"), []byte("!")}, Control: oob})
	ctl := make([]byte, unix.CmsgSpace(4))
	buf := make([]byte, 8)
	rx := newRecord(Op{Code: OpRecvmsg, Fd: b, Bufs: [][]byte{buf}, Control: ctl})
	submit(t, d, &rx.op)
	submit(t, d, &tx.op)
	waitUntil(t, d, "msgs", func() bool { return rx.final() && tx.final() })
	if tx.res(t) != 3 || rx.res(t) != 3 || string(buf[:3]) != "fd!" {
		t.Fatalf("sendmsg %d recvmsg %d %q", tx.res(t), rx.res(t), buf[:3])
	}
	got := rx.got[0]
	msgs, err := unix.ParseSocketControlMessage(ctl[:got.Len])
	if err != nil || len(msgs) != 1 {
		t.Fatalf("control: %v %v", msgs, err)
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		t.Fatalf("rights: %v %v", fds, err)
	}
	unix.Close(fds[0])
}

func TestEpollUDPMsgAddr(t *testing.T) {
	d := newTestEpoll(t, EpollConfig{})
	rfd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	closeOnCleanup(t, rfd)
	if err := unix.Bind(rfd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	sa, _ := unix.Getsockname(rfd)
	to := sockaddr4(sa.(*unix.SockaddrInet4).Port)
	sfd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	closeOnCleanup(t, sfd)
	var from Sockaddr
	buf := make([]byte, 4)
	rx := newRecord(Op{Code: OpRecvmsg, Fd: rfd, Bufs: [][]byte{buf}, Addr: &from})
	tx := newRecord(Op{Code: OpSendmsg, Fd: sfd, Bufs: [][]byte{[]byte("datagram")}, Addr: &to})
	submit(t, d, &rx.op)
	submit(t, d, &tx.op)
	waitUntil(t, d, "datagram", func() bool { return rx.final() && tx.final() })
	if rx.res(t) != 4 || rx.got[0].MsgFlags&unix.MSG_TRUNC == 0 || from.Len != unix.SizeofSockaddrInet4 {
		t.Fatalf("recvmsg %d flags %#x from %d bytes", rx.res(t), rx.got[0].MsgFlags, from.Len)
	}
}

func TestEpollShutdown(t *testing.T) {
	d := newTestEpoll(t, EpollConfig{})
	a, b := socketpair(t)
	if res := run(t, d, newRecord(Op{Code: OpShutdown, Fd: a, Arg: unix.SHUT_WR})); res != 0 {
		t.Fatalf("shutdown = %d", res)
	}
	if res := run(t, d, newRecord(Op{Code: OpRecv, Fd: b, Buf: make([]byte, 1)})); res != 0 {
		t.Fatalf("recv after peer shutdown = %d, want 0 (EOF)", res)
	}
}

func TestEpollPollOnce(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg EpollConfig) {
		d := newTestEpoll(t, cfg)
		a, b := socketpair(t)
		w := newRecord(Op{Code: OpPoll, Fd: a, Arg: unix.POLLOUT})
		if res := run(t, d, w); res&unix.POLLOUT == 0 {
			t.Fatalf("POLLOUT poll = %#x", res)
		}
		r := newRecord(Op{Code: OpPoll, Fd: a, Arg: unix.POLLIN})
		submit(t, d, &r.op)
		if _, err := d.Wait(10 * time.Millisecond); err != nil || r.final() {
			t.Fatalf("POLLIN poll completed early: %v %+v", err, r.got)
		}
		unix.Write(b, []byte("x"))
		waitUntil(t, d, "poll", r.final)
		if res := r.res(t); res != unix.POLLIN {
			t.Fatalf("POLLIN poll = %#x", res)
		}
	})
}

// The driver's own descriptors and numbers out of range are refused with EBADF.
func TestEpollBadDescriptors(t *testing.T) {
	d := newTestEpoll(t, EpollConfig{})
	for _, fd := range []int{-1, d.epfd, d.wakefd, maxFD, 1 << 30} {
		for _, code := range []Opcode{OpRecv, OpClose, OpPoll, OpFsync} {
			r := newRecord(Op{Code: code, Fd: fd, Buf: make([]byte, 1)})
			if res := run(t, d, r); res != errnoRes(unix.EBADF) {
				t.Errorf("%v on fd %d = %d, want EBADF", code, fd, res)
			}
		}
	}
	// A number that is not open: the kernel says EBADF.
	a, _ := socketpair(t)
	unix.Close(a)
	for _, code := range []Opcode{OpRecv, OpPoll, OpSend} {
		if res := run(t, d, newRecord(Op{Code: code, Fd: a, Buf: make([]byte, 1)})); res != errnoRes(unix.EBADF) {
			t.Errorf("%v on a closed fd = %d, want EBADF", code, res)
		}
	}
}

func TestEpollSubmitErrors(t *testing.T) {
	d := newTestEpoll(t, EpollConfig{})
	nop := func(*Op) {}
	var ie *InvalidOpError
	for _, c := range []struct {
		op   *Op
		want error
	}{
		{nil, ie},
		{&Op{Code: 0, Done: nop}, ie},
		{&Op{Code: OpNop}, ie},
		{&Op{Code: OpRecv, Fd: 0, Done: nop}, ie},
		{&Op{Code: OpStatx, Path: "x", Buf: make([]byte, 8), Done: nop}, ie},
	} {
		err := d.Submit(c.op)
		if !errors.As(err, &ie) || !errors.Is(err, unix.EINVAL) {
			t.Errorf("Submit(%+v) = %v, want *InvalidOpError", c.op, err)
		}
	}
	for _, op := range []*Op{
		{Code: OpSendZC, Buf: []byte("x"), Done: nop},
		{Code: OpRead, Flags: FlagFixedBuffer, Buf: []byte("x"), Done: nop},
		{Code: OpRecv, Flags: FlagFixedFile, Buf: []byte("x"), Done: nop},
	} {
		var ue *UnsupportedError
		if err := d.Submit(op); !errors.As(err, &ue) || !errors.Is(err, errors.ErrUnsupported) {
			t.Errorf("Submit(%v, %#x) = %v, want *UnsupportedError", op.Code, op.Flags, err)
		}
		if op.Ref != 0 {
			t.Errorf("refused op has Ref %#x", op.Ref)
		}
	}
	r := newRecord(Op{Code: OpTimeout, Timeout: time.Hour})
	submit(t, d, &r.op)
	if err := d.Submit(&r.op); err != ErrInFlight {
		t.Errorf("second Submit = %v, want ErrInFlight", err)
	}
	if _, err := NewEpoll(EpollConfig{Workers: -1}); !errors.Is(err, unix.EINVAL) {
		t.Errorf("NewEpoll(Workers: -1) = %v, want EINVAL", err)
	}
	if info := d.Info(); info.Name != "epoll" || info.Features.Has(FeatSendZC) || info.Features.Has(FeatFixedFiles) {
		t.Errorf("Info = %+v", info)
	}
}

// epoll_wait (milliseconds) serves when epoll_pwait2 is missing.
func TestEpollWaitFallback(t *testing.T) {
	d := newTestEpoll(t, EpollConfig{})
	d.noPwait2 = true
	start := time.Now()
	r := newRecord(Op{Code: OpTimeout, Timeout: 3 * time.Millisecond})
	if res := run(t, d, r); res != errnoRes(unix.ETIME) {
		t.Fatalf("timeout = %d", res)
	}
	if el := time.Since(start); el < 3*time.Millisecond {
		t.Fatalf("timer fired after %v, before its 3ms", el)
	}
	a, b := socketpair(t)
	rx := newRecord(Op{Code: OpRecv, Fd: a, Buf: make([]byte, 1)})
	submit(t, d, &rx.op)
	unix.Write(b, []byte("x"))
	waitUntil(t, d, "recv", rx.final)
}

// Structs the kernel reads by pointer have the kernel's layout.
func TestEpollKernelStructSizes(t *testing.T) {
	if s := unsafe.Sizeof(kernelTimespec{}); s != 16 {
		t.Fatalf("kernelTimespec is %d bytes, struct __kernel_timespec is 16", s)
	}
	if s := unsafe.Sizeof(wakeOne); s != 8 {
		t.Fatalf("eventfd value is %d bytes, want 8", s)
	}
}

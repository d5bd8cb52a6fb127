package znet

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/zokio/zokio/runtime"
)

// TestDialerBindErrorsLikeNet: a Dialer whose LocalAddr is a port in use fails as
// net.Dialer's does (an *os.SyscallError for bind, EADDRINUSE), a LocalAddr of the
// wrong kind fails with an *net.AddrError before any connect, a Control hook's
// error is returned, and the hook's RawConn refuses Read and Write.
func TestDialerBindErrorsLikeNet(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		nln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer nln.Close()
		busy, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer busy.Close()
		local := busy.Addr().(*net.TCPAddr)
		nd := net.Dialer{LocalAddr: local}
		_, nerr := nd.Dial("tcp", nln.Addr().String())
		zd := Dialer{LocalAddr: local}
		_, zerr := zd.Dial(ctxT(t), rt, "tcp", nln.Addr().String())
		var nse, zse *os.SyscallError
		if !errors.As(nerr, &nse) || !errors.As(zerr, &zse) || nse.Syscall != zse.Syscall || zse.Syscall != "bind" {
			t.Fatalf("bind to a port in use: net %v, znet %v", nerr, zerr)
		}
		if !errors.Is(zerr, syscall.EADDRINUSE) || !errors.Is(nerr, syscall.EADDRINUSE) {
			t.Errorf("bind to a port in use: net %v, znet %v; want EADDRINUSE", nerr, zerr)
		}
		var oe *net.OpError
		if !errors.As(zerr, &oe) || oe.Op != "dial" {
			t.Errorf("znet bind error %#v is no dial *net.OpError", zerr)
		}

		for _, tc := range []struct {
			network string
			local   net.Addr
		}{
			{"tcp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}},
			{"udp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}},
			{"tcp", &net.UnixAddr{Name: "x", Net: "unix"}},
		} {
			d := Dialer{LocalAddr: tc.local}
			c, err := d.Dial(ctxT(t), rt, tc.network, nln.Addr().String())
			var ae *net.AddrError
			if err == nil || !errors.As(err, &ae) {
				t.Errorf("%s with LocalAddr %T: %v, %v; want an *net.AddrError", tc.network, tc.local, c, err)
			}
			if c != nil {
				c.Close()
			}
		}

		hookErr := errors.New("hook says no")
		var readErr, writeErr error
		d := Dialer{Control: func(network, address string, c syscall.RawConn) error {
			readErr = c.Read(func(uintptr) bool { return true })
			writeErr = c.Write(func(uintptr) bool { return true })
			return hookErr
		}}
		if _, err := d.Dial(ctxT(t), rt, "tcp", nln.Addr().String()); !errors.Is(err, hookErr) {
			t.Errorf("Dial with a failing Control: %v", err)
		}
		if readErr == nil || writeErr == nil {
			t.Errorf("the Control hook's RawConn Read %v, Write %v; want errors", readErr, writeErr)
		}
	})
}

// TestResolvedNetworks: Control hooks see the family made explicit for tcp6, udp4 and
// udp6 as Go's net hands them, and ListenConfig.ListenPacket runs its hook.
func TestResolvedNetworks(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		var got string
		lc := ListenConfig{Control: func(network, address string, c syscall.RawConn) error {
			got = network
			return nil
		}}
		pc, err := lc.ListenPacket(ctxT(t), rt, "udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer pc.Close()
		if got != "udp4" {
			t.Errorf("ListenPacket's Control saw %q, want udp4", got)
		}
		d := Dialer{Control: lc.Control}
		c, err := d.Dial(ctxT(t), rt, "udp", pc.LocalAddr().String())
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
		if got != "udp4" {
			t.Errorf("Dial(udp)'s Control saw %q, want udp4", got)
		}
		pc6, err := lc.ListenPacket(ctxT(t), rt, "udp6", "[::1]:0")
		if err != nil {
			t.Skipf("no IPv6 loopback: %v", err)
		}
		defer pc6.Close()
		if got != "udp6" {
			t.Errorf("ListenPacket(udp6)'s Control saw %q", got)
		}
		ln6, err := lc.Listen(ctxT(t), rt, "tcp6", "[::1]:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln6.Close()
		if got != "tcp6" {
			t.Errorf("Listen(tcp6)'s Control saw %q", got)
		}
	})
}

// TestUDPConnErrorsLikeNet: a connected UDPConn's refusals read back beside
// net.UDPConn's: WriteToUDPAddrPort refused with net.ErrWriteToConnected, an empty
// Read returning at once, Read and Write past their deadline failing with
// os.ErrDeadlineExceeded, and ECONNREFUSED from a port nobody listens on.
func TestUDPConnErrorsLikeNet(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		peer, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Skipf("no UDP here: %v", err)
		}
		defer peer.Close()
		nc, err := net.DialUDP("udp", nil, peer.LocalAddr().(*net.UDPAddr))
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		zc, err := DialUDP(ctxT(t), rt, "udp", peer.LocalAddr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer zc.Close()
		ap := peer.LocalAddr().(*net.UDPAddr).AddrPort()
		_, nerr := nc.WriteToUDPAddrPort([]byte("x"), ap)
		_, zerr := zc.WriteToUDPAddrPort([]byte("x"), ap)
		if !errors.Is(nerr, net.ErrWriteToConnected) || !errors.Is(zerr, net.ErrWriteToConnected) {
			t.Errorf("WriteToUDPAddrPort: net %v, znet %v", nerr, zerr)
		}
		if n, err := zc.Read(nil); n != 0 || err != nil {
			t.Errorf("empty Read: %d, %v", n, err)
		}
		past := time.Now().Add(-time.Second)
		zc.SetDeadline(past)
		nc.SetDeadline(past)
		buf := make([]byte, 8)
		_, nerr = nc.Read(buf)
		_, zerr = zc.Read(buf)
		if !errors.Is(nerr, os.ErrDeadlineExceeded) || !errors.Is(zerr, os.ErrDeadlineExceeded) {
			t.Errorf("Read past the deadline: net %v, znet %v", nerr, zerr)
		}
		_, nerr = nc.Write([]byte("x"))
		_, zerr = zc.Write([]byte("x"))
		if !errors.Is(nerr, os.ErrDeadlineExceeded) || !errors.Is(zerr, os.ErrDeadlineExceeded) {
			t.Errorf("Write past the deadline: net %v, znet %v", nerr, zerr)
		}
		zc.Close()
		if _, err := zc.Read(buf); !errors.Is(err, net.ErrClosed) {
			t.Errorf("Read after Close: %v", err)
		}

		// A port nobody listens on: the kernel's ICMP answer fails a later op
		// with ECONNREFUSED, on both sides.
		gone, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		dead := gone.LocalAddr().String()
		gone.Close()
		rc, err := DialUDP(ctxT(t), rt, "udp", dead)
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		rc.SetDeadline(time.Now().Add(testDeadline))
		if _, err := rc.Write([]byte("anyone?")); err != nil {
			t.Fatalf("first Write to %s: %v", dead, err)
		}
		_, rerr := rc.Read(buf)
		if !errors.Is(rerr, syscall.ECONNREFUSED) {
			t.Errorf("Read after a datagram to a closed port: %v; want ECONNREFUSED", rerr)
		}
		var werr error
		for range 3 { // the refusal is reported once per ICMP answer
			if _, werr = rc.Write([]byte("anyone?")); werr != nil {
				break
			}
			if _, rerr := rc.Read(buf); !errors.Is(rerr, syscall.ECONNREFUSED) {
				t.Fatalf("Read: %v", rerr)
			}
		}
		var oe *net.OpError
		if werr != nil && (!errors.As(werr, &oe) || oe.Op != "write" || !errors.Is(werr, syscall.ECONNREFUSED)) {
			t.Errorf("Write to a closed port: %v", werr)
		}
	})
}

// TestSyscallConnsAfterClose: the listener's and the packet socket's SyscallConn run
// Control on the socket (SO_TYPE read back) and RawConn.Read waits for a datagram;
// once the socket is closed, SyscallConn, and Control/Read on a view taken before,
// fail with net.ErrClosed, as Go's net does; a raw Read past the deadline fails with
// os.ErrDeadlineExceeded. NetConn.File after Close fails too.
func TestSyscallConnsAfterClose(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		ln, err := Listen(ctxT(t), rt, "tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		rc, err := ln.SyscallConn()
		if err != nil {
			t.Fatal(err)
		}
		var typ int
		if err := rc.Control(func(fd uintptr) { typ, _ = getSockoptInt(int(fd), solSocket, syscall.SO_TYPE) }); err != nil || typ != syscall.SOCK_STREAM {
			t.Errorf("listener Control: %v, SO_TYPE %d", err, typ)
		}
		acc := acceptT(t, ln)
		c := dialT(t, rt, "tcp", ln.Addr().String())
		<-acc
		ln.Close()
		if _, err := ln.SyscallConn(); !errors.Is(err, net.ErrClosed) {
			t.Errorf("Listener.SyscallConn after Close: %v", err)
		}
		if err := rc.Read(func(uintptr) bool { return true }); !errors.Is(err, net.ErrClosed) {
			t.Errorf("listener raw Read after Close: %v", err)
		}

		pc, err := ListenPacket(ctxT(t), rt, "udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		prc, err := pc.SyscallConn()
		if err != nil {
			t.Fatal(err)
		}
		pc.SetReadDeadline(time.Now().Add(-time.Second))
		if err := prc.Read(func(uintptr) bool { return false }); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("raw Read past the deadline: %v", err)
		}
		pc.SetReadDeadline(time.Now().Add(testDeadline))
		sender, err := net.Dial("udp", pc.LocalAddr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer sender.Close()
		if _, err := sender.Write([]byte("raw")); err != nil {
			t.Fatal(err)
		}
		var got []byte
		err = prc.Read(func(fd uintptr) bool {
			b := make([]byte, 16)
			n, _, err := syscall.Recvfrom(int(fd), b, syscall.MSG_DONTWAIT)
			if err == syscall.EAGAIN {
				return false
			}
			got = b[:max(n, 0)]
			return true
		})
		if err != nil || string(got) != "raw" {
			t.Errorf("raw Read: %q, %v", got, err)
		}
		pc.Close()
		if _, err := pc.SyscallConn(); !errors.Is(err, net.ErrClosed) {
			t.Errorf("PacketConn.SyscallConn after Close: %v", err)
		}
		if err := prc.Control(func(uintptr) {}); !errors.Is(err, net.ErrClosed) {
			t.Errorf("packet raw Control after Close: %v", err)
		}

		f, err := c.File()
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		c.Close()
		if _, err := c.File(); !errors.Is(err, net.ErrClosed) {
			t.Errorf("NetConn.File after Close: %v", err)
		}
	})
}

// connPair dials two znet connections to a Go listener and returns each with its
// accepted peer.
func connPair(t *testing.T, rt *runtime.Runtime) (a *NetConn, pa net.Conn, b *NetConn, pb net.Conn) {
	t.Helper()
	nln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nln.Close() })
	acc := acceptT(t, nln)
	a = dialT(t, rt, "tcp", nln.Addr().String())
	pa = <-acc
	acc = acceptT(t, nln)
	b = dialT(t, rt, "tcp", nln.Addr().String())
	pb = <-acc
	for _, c := range []net.Conn{a, pa, b, pb} {
		c.SetDeadline(time.Now().Add(testDeadline))
	}
	return a, pa, b, pb
}

// TestReadFromConnLikeNet: b.ReadFrom(a), a proxy between two connections, moves
// what a's peer sends to b's peer, as net.TCPConn.ReadFrom(net.TCPConn) does: what a
// had read ahead first, then (where the driver splices) through splices; behind an
// *io.LimitedReader it stops at the limit and lowers N; from a closed connection it
// fails with net.ErrClosed. On two loops the source is duplicated onto b's loop.
func TestReadFromConnLikeNet(t *testing.T) {
	forEachDriver(t, 2, func(t *testing.T, rt *runtime.Runtime) {
		data := bytes.Repeat([]byte("0123456789abcdef"), 512<<10) // 8 MiB
		a, pa, b, pb := connPair(t, rt)
		// Some bytes first, read through a so that a's reader is running.
		if _, err := pa.Write([]byte("hello")); err != nil {
			t.Fatal(err)
		}
		head := make([]byte, 5)
		if _, err := io.ReadFull(a, head); err != nil || string(head) != "hello" {
			t.Fatalf("a read %q, %v", head, err)
		}
		go func() {
			pa.Write(data)
			pa.(*net.TCPConn).CloseWrite()
		}()
		got := make(chan []byte, 1)
		go func() {
			buf := make([]byte, len(data)+16)
			n, _ := io.ReadAtLeast(pb, buf, len(data))
			got <- buf[:n]
		}()
		before := splicedBytes.Load()
		lr := &io.LimitedReader{R: a, N: int64(len(data) - 100)}
		n, err := b.ReadFrom(lr)
		if err != nil || n != int64(len(data)-100) || lr.N != 0 {
			t.Fatalf("ReadFrom(LimitedReader): %d, %v, N %d; want %d", n, err, lr.N, len(data)-100)
		}
		m, err := b.ReadFrom(a)
		if err != nil || m != 100 {
			t.Fatalf("ReadFrom to EOF: %d, %v; want 100", m, err)
		}
		if g := <-got; !bytes.Equal(g, data) {
			t.Errorf("b's peer got %d bytes, want the %d sent", len(g), len(data))
		}
		if spliceOn(rt) && splicedBytes.Load() == before {
			t.Errorf("ReadFrom(*NetConn) moved no bytes through splices on a splicing driver")
		}
		a.Close()
		if _, err := b.ReadFrom(a); !errors.Is(err, net.ErrClosed) {
			t.Errorf("ReadFrom(a closed NetConn): %v", err)
		}
		if n, err := b.ReadFrom(&io.LimitedReader{R: a, N: 0}); n != 0 || err != nil {
			t.Errorf("ReadFrom(LimitedReader N 0): %d, %v", n, err)
		}
	})
}

// TestReadFromConnReadAheadEnd: a stream that ends while a's reader holds part of
// it: b.ReadFrom(a) writes what was read ahead, then ends at the EOF (from the
// read-ahead or from a splice, whichever saw it), and b's peer gets exactly the rest.
func TestReadFromConnReadAheadEnd(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		a, pa, b, pb := connPair(t, rt)
		if _, err := pa.Write([]byte("xrest of it")); err != nil {
			t.Fatal(err)
		}
		pa.Close()
		one := make([]byte, 1)
		if _, err := io.ReadFull(a, one); err != nil || one[0] != 'x' {
			t.Fatalf("a read %q, %v", one, err)
		}
		n, err := b.ReadFrom(a)
		if err != nil || n != int64(len("rest of it")) {
			t.Fatalf("ReadFrom: %d, %v", n, err)
		}
		b.CloseWrite()
		got, err := io.ReadAll(pb)
		if err != nil || string(got) != "rest of it" {
			t.Errorf("b's peer got %q, %v", got, err)
		}
	})
}

package znet

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/zokio/zokio/internal/iouringblock"
	"github.com/zokio/zokio/internal/testkit"
	"github.com/zokio/zokio/runtime"
	"github.com/zokio/zokio/runtime/driver"
)

// hoarder retains every piece it receives and gives none back until drop runs (on
// the loop): a server with it drains its loop's receive group.
type hoarder struct {
	echoHandler
	held []Retained
}

func (h *hoarder) OnData(c *Conn, b []byte) { h.held = append(h.held, c.Retain()) }

func (h *hoarder) drop() {
	for i := range h.held {
		h.held[i].Release()
	}
	h.held = nil
}

// starveLoop serves on rt's only loop with a hoarder and pushes data at it until the
// loop's default receive group has no buffer left (every one retained), the state in
// which a NetConn's multishot receive fails with ENOBUFS and the reader falls back to
// single receives for good. The cleanup gives the buffers back.
func starveLoop(t *testing.T, rt *runtime.Runtime) {
	t.Helper()
	h := &hoarder{echoHandler: *newEcho()}
	s := serveEcho(t, rt, h, Config{})
	c := dialStd(t, s)
	l := rt.Loops()[0]
	t.Cleanup(func() {
		_ = l.Call(ctxT(t), h.drop)
		c.Close()
	})
	go func() {
		chunk := make([]byte, 64<<10)
		for {
			if _, err := c.Write(chunk); err != nil {
				return // the test is over: the cleanup closed c
			}
		}
	}()
	dry := func() bool {
		var dry bool
		if err := l.Call(ctxT(t), func() {
			ln := netOf(l)
			dry = len(ln.groups) == 1 && !ln.groups[0].hasFree()
		}); err != nil {
			t.Fatal(err)
		}
		return dry
	}
	end := time.Now().Add(testDeadline)
	for !dry() {
		if time.Now().After(end) {
			t.Fatalf("the receive group never ran dry\n%s", hung())
		}
		time.Sleep(time.Millisecond) // a test-side poll on a state no event announces
	}
}

// TestNetConnFallbackRead: with the loop's receive group drained by a handler that
// retains every buffer, a NetConn's multishot receive gets ENOBUFS and its reader
// falls back to direct receives and the loop's single receives. Reads there behave as
// Go's net: the bytes in order, the read deadline, io.EOF after the peer's close, and
// ECONNRESET after the peer's reset.
func TestNetConnFallbackRead(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		starveLoop(t, rt)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		dial := func() (*NetConn, net.Conn) {
			acc := acceptT(t, ln)
			c := dialT(t, rt, "tcp", ln.Addr().String())
			peer := acceptedT(t, acc)
			return c, peer
		}

		c, peer := dial()
		if _, err := peer.Write([]byte("first")); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 64)
		n, err := io.ReadAtLeast(c, buf, 5)
		if err != nil || string(buf[:n]) != "first" {
			t.Fatalf("Read = %q, %v; want \"first\"", buf[:n], err)
		}
		if !c.rr.isFallback() {
			t.Fatal("the reader did not fall back though the group is dry")
		}
		// A buffer larger than a raw call copies: the direct receive's other path.
		big := make([]byte, 2*64<<10)
		if _, err := peer.Write([]byte("big")); err != nil {
			t.Fatal(err)
		}
		if n, err := io.ReadAtLeast(c, big, 3); err != nil || string(big[:n]) != "big" {
			t.Fatalf("Read into %d bytes = %q, %v", len(big), big[:n], err)
		}
		// Nothing there: the loop's single receive waits, and the deadline ends it.
		c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
		if _, err := c.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("Read past the deadline: %v, want os.ErrDeadlineExceeded", err)
		}
		c.SetReadDeadline(time.Time{})
		// A Read that waits in the loop's receive gets what is sent meanwhile.
		got := make(chan string, 1)
		go func() {
			n, err := c.Read(buf)
			if err != nil {
				got <- err.Error()
				return
			}
			got <- string(buf[:n])
		}()
		waitReadBlocked(t, c)
		if _, err := peer.Write([]byte("second")); err != nil {
			t.Fatal(err)
		}
		if s := <-got; s != "second" {
			t.Fatalf("a waiting Read got %q, want \"second\"", s)
		}
		// A Read waiting in the loop's receive when the peer closes: io.EOF.
		eof := make(chan error, 1)
		go func() {
			_, err := c.Read(buf)
			eof <- err
		}()
		waitReadBlocked(t, c)
		peer.Close()
		if err := <-eof; err != io.EOF {
			t.Fatalf("Read after the peer's close = %v, want io.EOF", err)
		}
		// And a Read after it, answered by the direct receive: io.EOF again.
		if _, err := c.Read(buf); err != io.EOF {
			t.Fatalf("second Read after the peer's close = %v, want io.EOF", err)
		}
		c.Close()

		// The peer resets: the direct receive reports ECONNRESET, as Go's net does.
		c, peer = dial()
		if _, err := c.Write([]byte("x")); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(peer, make([]byte, 1)); err != nil {
			t.Fatal(err)
		}
		peer.(*net.TCPConn).SetLinger(0)
		peer.Close()
		// Wait for the reset to land (poll does not consume it), so that the direct
		// receive is what reports it.
		pfd := []unix.PollFd{{Fd: int32(c.fd), Events: unix.POLLIN}}
		if n, err := unix.Poll(pfd, int(testDeadline/time.Millisecond)); n != 1 || err != nil {
			t.Fatalf("poll for the reset: %d, %v", n, err)
		}
		_, err = c.Read(buf)
		var op *net.OpError
		switch {
		case underLibkqueue && strings.HasSuffix(t.Name(), "/kqueue") && err == io.EOF:
			t.Log("the reset read as EOF: libkqueue clears SO_ERROR (see underLibkqueue)")
		case !errors.Is(err, syscall.ECONNRESET) || !errors.As(err, &op) || op.Op != "read":
			t.Fatalf("Read after the peer's reset = %v, want a read *net.OpError with ECONNRESET", err)
		}
		if !c.rr.isFallback() {
			t.Fatal("the second connection's reader did not fall back")
		}
	})
}

// TestNetConnClosedCalls: after Close, every NetConn and Listener call fails with an
// error wrapping net.ErrClosed, as Go's net does; a Read of nothing returns (0, nil)
// before it, as Go's does.
func TestNetConnClosedCalls(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		ln := listenT(t, rt, "tcp", "127.0.0.1:0")
		acc := acceptT(t, ln)
		c := dialT(t, rt, "tcp", ln.Addr().String())
		acceptedT(t, acc) // closed by acceptT's cleanup
		std, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer std.Close()
		for _, cc := range []net.Conn{c, std} {
			if n, err := cc.Read(nil); n != 0 || err != nil {
				t.Errorf("%T.Read(nil) = %d, %v; want 0, nil", cc, n, err)
			}
		}
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		std.Close()
		for _, cc := range []net.Conn{c, std} {
			name := "std"
			if cc == c {
				name = "znet"
			}
			calls := map[string]error{
				"SetDeadline":      cc.SetDeadline(time.Now()),
				"SetReadDeadline":  cc.SetReadDeadline(time.Now()),
				"SetWriteDeadline": cc.SetWriteDeadline(time.Now()),
			}
			type halves interface {
				CloseRead() error
				CloseWrite() error
			}
			calls["CloseRead"] = cc.(halves).CloseRead()
			calls["CloseWrite"] = cc.(halves).CloseWrite()
			for call, err := range calls {
				if !errors.Is(err, net.ErrClosed) {
					t.Errorf("%s %s after Close: %v, want net.ErrClosed", name, call, err)
				}
			}
		}
		if err := ln.Close(); err != nil {
			t.Fatal(err)
		}
		if err := ln.SetDeadline(time.Now()); !errors.Is(err, net.ErrClosed) {
			t.Errorf("Listener.SetDeadline after Close: %v, want net.ErrClosed", err)
		}
	})
}

// TestNetConnCloseRead: after CloseRead, Read returns io.EOF while writing still
// works, on our NetConn and on Go's TCPConn alike.
func TestNetConnCloseRead(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		ln := listenT(t, rt, "tcp", "127.0.0.1:0")
		acc := acceptT(t, ln)
		c := dialT(t, rt, "tcp", ln.Addr().String())
		peer := acceptedT(t, acc)
		std, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer std.Close()
		for _, cc := range []net.Conn{c, std} {
			if err := cc.(interface{ CloseRead() error }).CloseRead(); err != nil {
				t.Fatalf("%T.CloseRead: %v", cc, err)
			}
			cc.SetReadDeadline(time.Now().Add(testDeadline))
			if n, err := cc.Read(make([]byte, 8)); n != 0 || err != io.EOF {
				t.Errorf("%T.Read after CloseRead = %d, %v; want 0, io.EOF", cc, n, err)
			}
		}
		if _, err := c.Write([]byte("still")); err != nil {
			t.Fatalf("Write after CloseRead: %v", err)
		}
		got := make([]byte, 5)
		peer.SetReadDeadline(time.Now().Add(testDeadline))
		if _, err := io.ReadFull(peer, got); err != nil || string(got) != "still" {
			t.Fatalf("peer read %q, %v", got, err)
		}
	})
}

// TestPacketConnEdges: the UDP adapter's edge cases beside Go's UDPConn where both
// have them: deadlines that passed, calls after Close, addresses it cannot send to,
// empty reads, and WriteToUDPAddrPort with a zero address (the socket's unspecified
// address, which delivers to this host).
func TestPacketConnEdges(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		c, err := ListenPacket(ctxT(t), rt, "udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		std, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer std.Close()
		to := c.LocalAddr().(*net.UDPAddr)
		port := uint16(to.Port)

		// A zero address: the unspecified one, this host.
		if n, err := c.WriteToUDPAddrPort([]byte("self"), netip.AddrPortFrom(netip.Addr{}, port)); n != 4 || err != nil {
			t.Fatalf("WriteToUDPAddrPort(zero addr) = %d, %v", n, err)
		}
		buf := make([]byte, 16)
		c.SetReadDeadline(time.Now().Add(testDeadline))
		n, from, err := c.ReadFrom(buf)
		if err != nil || string(buf[:n]) != "self" || from.(*net.UDPAddr).Port != to.Port {
			t.Fatalf("ReadFrom = %q from %v, %v", buf[:n], from, err)
		}
		// An empty buffer takes a whole datagram and reports 0 bytes, as Go's does.
		for _, pc := range []net.PacketConn{c, std} {
			if _, err := std.WriteTo([]byte("gone"), pc.LocalAddr()); err != nil {
				t.Fatal(err)
			}
			pc.SetReadDeadline(time.Now().Add(testDeadline))
			if n, _, err := pc.ReadFrom(nil); n != 0 || err != nil {
				t.Errorf("%T.ReadFrom(nil) = %d, %v; want 0, nil", pc, n, err)
			}
			// The datagram is gone: the next read times out.
			pc.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
			if _, _, err := pc.ReadFrom(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Errorf("%T.ReadFrom after the empty read: %v, want a timeout", pc, err)
			}
		}
		// Deadlines that passed fail the call at once, as Go's do.
		for _, pc := range []net.PacketConn{c, std} {
			pc.SetDeadline(time.Now().Add(-time.Second))
			if _, _, err := pc.ReadFrom(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Errorf("%T.ReadFrom past the deadline: %v", pc, err)
			}
			if _, err := pc.WriteTo([]byte("x"), to); !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Errorf("%T.WriteTo past the deadline: %v", pc, err)
			}
			pc.SetDeadline(time.Time{})
		}
		// Addresses that cannot be sent to.
		var ae *net.AddrError
		if _, err := c.WriteTo([]byte("x"), &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}); !errors.As(err, &ae) {
			t.Errorf("WriteTo a TCP address: %v, want a *net.AddrError", err)
		}
		if _, err := c.WriteTo([]byte("x"), nil); !errors.As(err, &ae) || ae.Addr != "<nil>" {
			t.Errorf("WriteTo nil: %v, want a *net.AddrError naming <nil>", err)
		}
		if _, err := c.WriteToUDPAddrPort([]byte("x"), netip.MustParseAddrPort("[::1]:9")); !errors.As(err, &ae) {
			t.Errorf("WriteToUDPAddrPort of an IPv6 address on udp4: %v, want a *net.AddrError", err)
		}
		// Port 0 is no destination: the kernel's EINVAL, as Go's reports it.
		zero := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 0}
		for _, pc := range []net.PacketConn{c, std} {
			if _, err := pc.WriteTo([]byte("x"), zero); !errors.Is(err, syscall.EINVAL) {
				t.Errorf("%T.WriteTo port 0: %v, want EINVAL", pc, err)
			}
		}
		// After Close.
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		std.Close()
		for _, pc := range []net.PacketConn{c, std} {
			for call, err := range map[string]error{
				"Close":            pc.Close(),
				"SetDeadline":      pc.SetDeadline(time.Now()),
				"SetReadDeadline":  pc.SetReadDeadline(time.Now()),
				"SetWriteDeadline": pc.SetWriteDeadline(time.Now()),
			} {
				if !errors.Is(err, net.ErrClosed) {
					t.Errorf("%T.%s after Close: %v, want net.ErrClosed", pc, call, err)
				}
			}
			if _, _, err := pc.ReadFrom(buf); !errors.Is(err, net.ErrClosed) {
				t.Errorf("%T.ReadFrom after Close: %v", pc, err)
			}
			if _, err := pc.WriteTo([]byte("x"), to); !errors.Is(err, net.ErrClosed) {
				t.Errorf("%T.WriteTo after Close: %v", pc, err)
			}
		}
	})
}

// TestListenErrors: bad networks, bad addresses and ports in use fail Listen,
// ListenPacket, Dial and Serve with *net.OpError, as Go's net fails them.
func TestListenErrors(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		ctx := ctxT(t)
		busyTCP, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer busyTCP.Close()
		busyUDP, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer busyUDP.Close()
		h := newEcho()
		cases := []struct {
			name string
			err  func() error
			is   error
		}{
			{"Listen bad network", func() error { _, err := Listen(ctx, rt, "sctp", "127.0.0.1:0"); return err }, nil},
			{"Listen bad address", func() error { _, err := Listen(ctx, rt, "tcp", "127.0.0.1:x"); return err }, nil},
			{"Listen in use", func() error { _, err := Listen(ctx, rt, "tcp4", busyTCP.Addr().String()); return err }, syscall.EADDRINUSE},
			{"ListenPacket bad network", func() error { _, err := ListenPacket(ctx, rt, "tcp", "127.0.0.1:0"); return err }, nil},
			{"ListenPacket bad address", func() error { _, err := ListenPacket(ctx, rt, "udp", "127.0.0.1:x"); return err }, nil},
			{"ListenPacket in use", func() error { _, err := ListenPacket(ctx, rt, "udp4", busyUDP.LocalAddr().String()); return err }, syscall.EADDRINUSE},
			{"Dial bad network", func() error { _, err := Dial(ctx, rt, "ip4", "127.0.0.1:1"); return err }, nil},
			{"DialUDP stream network", func() error { _, err := DialUDP(ctx, rt, "tcp", "127.0.0.1:1"); return err }, nil},
			{"DialNetConn datagram network", func() error { _, err := DialNetConn(ctx, rt, "udp", "127.0.0.1:1"); return err }, nil},
			{"Serve nil handler", func() error { _, err := Serve(ctx, rt, "tcp", "127.0.0.1:0", Config{}); return err }, nil},
			{"Serve bad network", func() error { _, err := Serve(ctx, rt, "udp", "127.0.0.1:0", Config{Handler: h}); return err }, nil},
		}
		for _, tc := range cases {
			err := tc.err()
			var op *net.OpError
			if !errors.As(err, &op) {
				t.Errorf("%s: %v, want a *net.OpError", tc.name, err)
				continue
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("%s: %v, want %v", tc.name, err, tc.is)
			}
		}
		if _, err := net.ListenPacket("udp4", busyUDP.LocalAddr().String()); !errors.Is(err, syscall.EADDRINUSE) {
			t.Errorf("Go's ListenPacket on a port in use: %v (the behaviour compared)", err)
		}
	})
}

// fullBacklog returns a listening socket whose accept queue is full, so that a
// further connect to it waits (the kernel drops its SYN) until its context ends.
func fullBacklog(t *testing.T) string {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(sa.(*unix.SockaddrInet4).Port))
	for i := 0; ; i++ {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			return addr // this one waited: the queue is full
		}
		t.Cleanup(func() { c.Close() })
		if i == 16 {
			t.Skip("the kernel never refused a connect to a full accept queue")
		}
	}
}

// TestDialContextEnds: a connect that cannot complete (the listener's accept queue is
// full) ends with its context, as Go's DialContext does: "i/o timeout" matching
// context.DeadlineExceeded when the deadline passes, "operation was canceled"
// matching context.Canceled when it is cancelled.
func TestDialContextEnds(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		addr := fullBacklog(t)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err := Dial(ctx, rt, "tcp", addr)
		var ne net.Error
		if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &ne) || !ne.Timeout() ||
			!strings.Contains(err.Error(), "i/o timeout") {
			t.Errorf("Dial past the context's deadline: %v, want an i/o timeout", err)
		}
		//lint:ignore SA1019 Go's dial timeout says Temporary, and so must ours
		if ne != nil && !ne.Temporary() {
			t.Errorf("the dial timeout is not Temporary, as Go's is")
		}
		ctx, cancel = context.WithCancel(context.Background())
		time.AfterFunc(20*time.Millisecond, cancel)
		_, err = Dial(ctx, rt, "tcp", addr)
		var d net.Dialer
		ctx2, cancel2 := context.WithCancel(context.Background())
		time.AfterFunc(20*time.Millisecond, cancel2)
		_, stdErr := d.DialContext(ctx2, "tcp", addr)
		if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "operation was canceled") {
			t.Errorf("Dial cancelled: %v, want \"operation was canceled\" (Go's: %v)", err, stdErr)
		}
		if !errors.Is(stdErr, context.Canceled) {
			t.Errorf("Go's DialContext cancelled: %v (the behaviour compared)", stdErr)
		}
	})
}

// TestDeadlineContextView: a deadline seen as a context.Context (what Loop.Do is
// given) reports its time and carries no values.
func TestDeadlineContextView(t *testing.T) {
	var d deadline
	d.init()
	if _, ok := d.Deadline(); ok {
		t.Error("a fresh deadline reports a time")
	}
	when := time.Now().Add(time.Hour)
	d.set(when)
	if got, ok := d.Deadline(); !ok || !got.Equal(when) {
		t.Errorf("Deadline() = %v, %v; want %v, true", got, ok, when)
	}
	if v := d.Value("key"); v != nil {
		t.Errorf("Value = %v, want nil", v)
	}
	d.shutdown()
	d.set(time.Now()) // after shutdown: ignored
	if err := d.Err(); err != context.Canceled {
		t.Errorf("Err after shutdown = %v, want context.Canceled", err)
	}
	d.shutdown() // twice: nothing
}

// scripted checks the Conn calls a handler may make at odd times: Retain outside
// OnData and twice in one OnData, writes and CloseWrite from a task posted to the
// loop (no callback running), and every call from OnClose.
type scripted struct {
	echoHandler
	errs chan string // one line per broken expectation; closed by OnClose
}

func (h *scripted) OnOpen(c *Conn) {
	if r := c.Retain(); r.Bytes() != nil {
		h.errs <- "Retain in OnOpen returned bytes"
	} else {
		r.Release() // a zero Retained: nothing to give back
	}
}

func (h *scripted) OnData(c *Conn, b []byte) {
	r := c.Retain()
	if again := c.Retain(); again.Bytes() != nil {
		h.errs <- "a second Retain in one OnData returned bytes"
	}
	if string(r.Bytes()) != string(b) {
		h.errs <- "Retain's bytes differ from OnData's"
	}
	c.Write(r.Bytes())
	r.Release()
	if err := c.Loop().Post(func() {
		if _, err := c.Writev([]byte("by"), []byte("e")); err != nil {
			h.errs <- "Writev from a task: " + err.Error()
		}
		if err := c.CloseWrite(); err != nil {
			h.errs <- "CloseWrite from a task: " + err.Error()
		}
		if err := c.CloseWrite(); !errors.Is(err, net.ErrClosed) {
			h.errs <- "a second CloseWrite did not fail with net.ErrClosed"
		}
		if _, err := c.Write([]byte("late")); !errors.Is(err, net.ErrClosed) {
			h.errs <- "Write after CloseWrite did not fail with net.ErrClosed"
		}
	}); err != nil {
		h.errs <- "Post: " + err.Error()
	}
}

func (h *scripted) OnClose(c *Conn, err error) {
	if err != io.EOF {
		h.errs <- "OnClose with " + errString(err) + ", want io.EOF"
	}
	for name, err := range map[string]error{"Close": c.Close(), "Abort": c.Abort(), "CloseWrite": c.CloseWrite()} {
		if !errors.Is(err, net.ErrClosed) {
			h.errs <- name + " in OnClose: " + errString(err)
		}
	}
	if _, err := c.Writev([]byte("x")); !errors.Is(err, net.ErrClosed) {
		h.errs <- "Writev in OnClose: " + errString(err)
	}
	close(h.errs)
}

// TestConnCallsAtOddTimes runs the scripted handler: the peer reads the echo, the
// task's write, then EOF (CloseWrite); its own close ends the connection with io.EOF.
func TestConnCallsAtOddTimes(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		h := &scripted{echoHandler: *newEcho(), errs: make(chan string, 16)}
		s := serveEcho(t, rt, h, Config{})
		c := dialStd(t, s)
		defer c.Close()
		if _, err := c.Write([]byte("hi")); err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(c)
		if err != nil || string(got) != "hibye" {
			t.Fatalf("peer read %q, %v; want \"hibye\" then EOF", got, err)
		}
		c.Close()
		for {
			select {
			case e, ok := <-h.errs:
				if !ok {
					return
				}
				t.Error(e)
			case <-time.After(testDeadline):
				t.Fatalf("OnClose never ran\n%s", hung())
			}
		}
	})
}

// bigWriter writes more in OnOpen than the kernel's socket buffers can take: the
// rest stays buffered while the peer reads nothing.
type bigWriter struct {
	echoHandler
	size int
}

func (h *bigWriter) OnOpen(c *Conn) {
	if _, err := c.Write(make([]byte, h.size)); err != nil {
		c.Close()
	}
	h.opened <- c
}

// unflushable returns a size of output that a loopback TCP connection whose peer
// never reads cannot take in: more than the largest send buffer plus a peer receive
// buffer that never grows (the kernel grows it only as the peer reads).
func unflushable() int {
	read := func(name string, field int, def int) int {
		b, err := os.ReadFile(name)
		if err != nil {
			return def
		}
		f := strings.Fields(string(b))
		if len(f) != 3 {
			return def
		}
		n, err := strconv.Atoi(f[field])
		if err != nil {
			return def
		}
		return n
	}
	return read("/proc/sys/net/ipv4/tcp_wmem", 2, 4<<20) + 4*read("/proc/sys/net/ipv4/tcp_rmem", 1, 128<<10) + 1<<20
}

// TestServerCloseContextEnds: Server.Close waits for connections to flush; when its
// context ends first, the connections still flushing to peers that read nothing are
// aborted, Close returns the context's error, and every OnClose still runs (with
// net.ErrClosed).
func TestServerCloseContextEnds(t *testing.T) {
	forEachDriver(t, 2, func(t *testing.T, rt *runtime.Runtime) {
		size := unflushable()
		h := &bigWriter{echoHandler: *newEcho(), size: size}
		s, err := Serve(ctxT(t), rt, "tcp", "127.0.0.1:0", Config{Handler: h, WriteBufferLimit: size})
		if err != nil {
			t.Fatal(err)
		}
		const peers = 2
		for range peers {
			c := dialStd(t, s)
			defer c.Close()
			select {
			case <-h.opened:
			case <-time.After(testDeadline):
				t.Fatalf("no OnOpen\n%s", hung())
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		if err := s.Close(ctx); err != context.DeadlineExceeded {
			t.Fatalf("Server.Close with flushing connections = %v, want context.DeadlineExceeded", err)
		}
		for range peers {
			if err := recvErr(t, h.closed); !errors.Is(err, net.ErrClosed) {
				t.Errorf("OnClose = %v, want net.ErrClosed", err)
			}
		}
		if err := s.Close(ctxT(t)); err != nil {
			t.Errorf("Server.Close once every connection ended: %v", err)
		}
	})
}

// TestRuntimeCloseUnderLiveOps closes the runtime while every kind of op is in
// flight: a server's accepts and its connection's receive, a NetConn's receive with a
// Read waiting on it, a Listener's Accept and a PacketConn's ReadFrom. Each ends with
// an error wrapping net.ErrClosed (as OnClose's error or the call's), the adapters'
// Close then still succeeds (closing the descriptor itself), the package's entry
// points refuse the closed runtime, and no descriptor is left.
func TestRuntimeCloseUnderLiveOps(t *testing.T) {
	forEachDriver(t, 2, func(t *testing.T, rt *runtime.Runtime) {
		h := newEcho()
		s, err := Serve(ctxT(t), rt, "tcp", "127.0.0.1:0", Config{Handler: h})
		if err != nil {
			t.Fatal(err)
		}
		peer := dialStd(t, s)
		defer peer.Close()
		peer.Write([]byte("ping"))
		if _, err := io.ReadFull(peer, make([]byte, 4)); err != nil {
			t.Fatal(err)
		}

		std, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer std.Close()
		acc := acceptT(t, std)
		c, err := DialNetConn(ctxT(t), rt, "tcp", std.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		if <-acc == nil {
			t.FailNow()
		}
		ln, err := Listen(ctxT(t), rt, "tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		pc, err := ListenPacket(ctxT(t), rt, "udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		errs := make(chan error, 3)
		go func() { _, err := c.Read(make([]byte, 8)); errs <- err }()
		go func() { _, err := ln.Accept(); errs <- err }()
		go func() { _, _, err := pc.ReadFrom(make([]byte, 8)); errs <- err }()
		waitReadBlocked(t, c)
		waitOpsInFlight(t, rt, 3) // at least the Accept's and the ReadFrom's ops, with the others

		if err := rt.Close(ctxT(t)); err != nil {
			t.Fatal(err)
		}
		if err := recvErr(t, h.closed); !errors.Is(err, net.ErrClosed) {
			t.Errorf("OnClose after the runtime closed: %v, want net.ErrClosed", err)
		}
		for range 3 {
			select {
			case err := <-errs:
				if !errors.Is(err, net.ErrClosed) {
					t.Errorf("a blocked call when the runtime closed: %v, want net.ErrClosed", err)
				}
			case <-time.After(testDeadline):
				t.Fatalf("a blocked call did not return when the runtime closed\n%s", hung())
			}
		}
		for name, err := range map[string]error{"NetConn": c.Close(), "Listener": ln.Close(), "PacketConn": pc.Close()} {
			if err != nil {
				t.Errorf("%s.Close after the runtime closed: %v", name, err)
			}
		}
		if err := s.Close(ctxT(t)); err != nil {
			t.Errorf("Server.Close after the runtime closed: %v", err)
		}
		ctx := ctxT(t)
		for name, err := range map[string]error{
			"Dial":         second(Dial(ctx, rt, "tcp", std.Addr().String())),
			"Listen":       second(Listen(ctx, rt, "tcp", "127.0.0.1:0")),
			"ListenPacket": second(ListenPacket(ctx, rt, "udp", "127.0.0.1:0")),
			"Serve":        second(Serve(ctx, rt, "tcp", "127.0.0.1:0", Config{Handler: h})),
		} {
			var op *net.OpError
			if !errors.Is(err, net.ErrClosed) || !errors.As(err, &op) {
				t.Errorf("%s on a closed runtime: %v, want a *net.OpError wrapping net.ErrClosed", name, err)
			}
		}
	})
}

// TestNilRuntime: the entry points given no runtime fail with a *net.OpError, never
// a panic.
func TestNilRuntime(t *testing.T) {
	ctx := ctxT(t)
	for name, err := range map[string]error{
		"Dial":         second(Dial(ctx, nil, "tcp", "127.0.0.1:1")),
		"Listen":       second(Listen(ctx, nil, "tcp", "127.0.0.1:0")),
		"ListenPacket": second(ListenPacket(ctx, nil, "udp", "127.0.0.1:0")),
		"Serve":        second(Serve(ctx, nil, "tcp", "127.0.0.1:0", Config{Handler: newEcho()})),
	} {
		var op *net.OpError
		if !errors.As(err, &op) || !errors.Is(err, errNilRuntime) {
			t.Errorf("%s with a nil runtime: %v, want a *net.OpError", name, err)
		}
	}
}

func second[T any](_ T, err error) error { return err }

// waitOpsInFlight waits until rt has at least n ops in flight (looking every
// millisecond within the test deadline: no event announces an op's submission).
func waitOpsInFlight(t *testing.T, rt *runtime.Runtime, n int) {
	t.Helper()
	end := time.Now().Add(testDeadline)
	for rt.DumpInFlight(ctxT(t), io.Discard) < n {
		if time.Now().After(end) {
			t.Fatalf("fewer than %d ops in flight\n%s", n, hung())
		}
		time.Sleep(time.Millisecond)
	}
}

// TestResolvedNames: a host name (localhost) resolves for Listen and Dial, as with
// Go's net; a name with no address of the network's family fails with a
// *net.AddrError ("no suitable address found"), as Go's Dial fails.
func TestResolvedNames(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		ln := listenT(t, rt, "tcp4", "localhost:0")
		port := ln.Addr().(*net.TCPAddr).Port
		acc := acceptT(t, ln)
		c := dialT(t, rt, "tcp4", net.JoinHostPort("localhost", strconv.Itoa(port)))
		if <-acc == nil {
			t.FailNow()
		}
		if ra := c.RemoteAddr().(*net.TCPAddr); !ra.IP.IsLoopback() || ra.Port != port {
			t.Errorf("RemoteAddr = %v", ra)
		}
		ips, err := net.DefaultResolver.LookupNetIP(ctxT(t), "ip6", "localhost")
		if err == nil && len(ips) > 0 {
			return // this host names an IPv6 localhost: nothing to refuse
		}
		addr := net.JoinHostPort("localhost", strconv.Itoa(port))
		_, err = Dial(ctxT(t), rt, "tcp6", addr)
		_, stdErr := net.Dial("tcp6", addr)
		var ae, stdAe *net.AddrError
		if !errors.As(err, &ae) || !errors.As(stdErr, &stdAe) || ae.Err != stdAe.Err {
			t.Errorf("Dial tcp6 to a name with IPv4 addresses only: %v; Go's: %v", err, stdErr)
		}
	})
}

// oddContext is a context whose Err is an error of its own, as a caller's custom
// context may have.
type oddContext struct{ context.Context }

var errOdd = errors.New("odd context error")

func (oddContext) Err() error { return errOdd }

// TestErrorShapes: the package's own errors answer as Go's net errors do: an idle
// timeout is a timeout matching os.ErrDeadlineExceeded, a custom context's error
// passes through Dial unchanged, and an unsupported platform's error matches
// errors.ErrUnsupported.
func TestErrorShapes(t *testing.T) {
	var ne net.Error
	if !errors.As(ErrIdleTimeout, &ne) || !ne.Timeout() || ne.Error() == "" || !errors.Is(ErrIdleTimeout, os.ErrDeadlineExceeded) {
		t.Errorf("ErrIdleTimeout = %v: not a timeout net.Error matching os.ErrDeadlineExceeded", ErrIdleTimeout)
	}
	//lint:ignore SA1019 os.ErrDeadlineExceeded says Temporary, and so must the idle timeout
	if !ne.Temporary() {
		t.Error("ErrIdleTimeout is not Temporary, as os.ErrDeadlineExceeded is")
	}
	rt := newRuntime(t, testkit.Drivers(t)[0], 1)
	if _, err := Dial(oddContext{context.Background()}, rt, "tcp", "127.0.0.1:1"); !errors.Is(err, errOdd) {
		t.Errorf("Dial with a context whose Err is its own: %v, want that error", err)
	}
	err := unsupportedErr("dial", "tcp")
	var op *net.OpError
	if !errors.Is(err, errors.ErrUnsupported) || !errors.As(err, &op) || op.Op != "dial" || !strings.Contains(err.Error(), "not implemented") {
		t.Errorf("unsupportedErr = %v, want a dial *net.OpError matching errors.ErrUnsupported", err)
	}
}

// TestStarvedConnClosed: a connection waiting for receive buffers (its loop's group
// drained by a handler that retains them) is closed by Server.Close: it leaves the
// group's waiting list, its OnClose runs with net.ErrClosed, and the buffers given
// back afterwards re-arm nobody.
func TestStarvedConnClosed(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		h := &hoarder{echoHandler: *newEcho()}
		cfg := Config{Handler: h, RecvBuffers: 4, RecvBufferSize: 4096}
		s, err := Serve(ctxT(t), rt, "tcp", "127.0.0.1:0", cfg)
		if err != nil {
			t.Fatal(err)
		}
		c := dialStd(t, s)
		defer c.Close()
		go func() {
			chunk := make([]byte, 16<<10)
			for {
				if _, err := c.Write(chunk); err != nil {
					return // closed by the server or the test
				}
			}
		}()
		l := rt.Loops()[0]
		var g *recvGroup
		starved := func() int {
			n := -1
			if err := l.Call(ctxT(t), func() {
				for _, gg := range netOf(l).groups {
					if gg.count == 4 {
						g, n = gg, len(gg.starved)
					}
				}
			}); err != nil {
				t.Fatal(err)
			}
			return n
		}
		end := time.Now().Add(testDeadline)
		for starved() < 1 {
			if time.Now().After(end) {
				t.Fatalf("the connection never waited for buffers\n%s", hung())
			}
			time.Sleep(time.Millisecond) // a test-side poll on a state no event announces
		}
		if err := s.Close(ctxT(t)); err != nil {
			t.Fatal(err)
		}
		if err := recvErr(t, h.closed); !errors.Is(err, net.ErrClosed) {
			t.Errorf("OnClose of the starved connection: %v, want net.ErrClosed", err)
		}
		if n := starved(); n != 0 {
			t.Errorf("%d connections still wait for buffers after Close", n)
		}
		var free bool
		l.Call(ctxT(t), func() { h.drop(); free = g.hasFree() })
		if !free {
			t.Error("the buffers given back after Close are not free")
		}
	})
}

// TestNetConnAfterPeerReset: once the peer has reset the connection, Write and
// CloseWrite fail with the kernel's errors, as Go's TCPConn's do: ECONNRESET or
// EPIPE for the write, ENOTCONN for the shutdown.
func TestNetConnAfterPeerReset(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		reset := func(c net.Conn) {
			t.Helper()
			peer, err := ln.Accept()
			if err != nil {
				t.Fatal(err)
			}
			peer.(*net.TCPConn).SetLinger(0)
			peer.Close()
			fd := -1
			if nc, ok := c.(*NetConn); ok {
				fd = nc.fd
			} else {
				raw, _ := c.(*net.TCPConn).SyscallConn()
				raw.Control(func(f uintptr) { fd = int(f) })
			}
			pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}
			end := time.Now().Add(testDeadline)
			for pfd[0].Revents&(unix.POLLHUP|unix.POLLERR) == 0 && time.Now().Before(end) {
				unix.Poll(pfd, 10)
			}
		}
		ours := dialT(t, rt, "tcp", ln.Addr().String())
		reset(ours)
		std, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer std.Close()
		reset(std)
		for _, c := range []net.Conn{ours, std} {
			_, werr := c.Write([]byte("after the reset"))
			serr := c.(interface{ CloseWrite() error }).CloseWrite()
			var op *net.OpError
			if !errors.As(werr, &op) || op.Op != "write" || !(errors.Is(werr, syscall.ECONNRESET) || errors.Is(werr, syscall.EPIPE)) {
				t.Errorf("%T.Write after a reset: %v, want a write *net.OpError with ECONNRESET or EPIPE", c, werr)
			}
			if !errors.Is(serr, syscall.ENOTCONN) {
				t.Errorf("%T.CloseWrite after a reset: %v, want ENOTCONN", c, serr)
			}
		}
	})
}

// TestServeSetupRefused: a receive group or send arena the driver cannot make fails
// Serve with the driver's error (EINVAL for a 2 GiB buffer; the arena's refusal for
// one of 2^30 buffers), undoing the set-up: the port is free again and no descriptor
// is left.
func TestServeSetupRefused(t *testing.T) {
	forEachDriver(t, 2, func(t *testing.T, rt *runtime.Runtime) {
		probe, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := probe.Addr().String()
		probe.Close()
		for _, cfg := range []Config{
			{Handler: newEcho(), RecvBuffers: 2, RecvBufferSize: 1 << 31},
			{Handler: newEcho(), SendArena: 1 << 30},
		} {
			s, err := Serve(ctxT(t), rt, "tcp", addr, cfg)
			var op *net.OpError
			if err == nil || !errors.As(err, &op) {
				if s != nil {
					s.Close(ctxT(t))
				}
				t.Fatalf("Serve with RecvBufferSize %d, SendArena %d: %v, want a *net.OpError", cfg.RecvBufferSize, cfg.SendArena, err)
			}
			if cfg.RecvBufferSize != 0 && !errors.Is(err, syscall.EINVAL) {
				t.Errorf("Serve with a 2 GiB receive buffer: %v, want EINVAL", err)
			}
			ln, err := net.Listen("tcp", addr) // the failed Serve let go of the port
			if err != nil {
				t.Fatalf("the port stays taken after the failed Serve: %v", err)
			}
			ln.Close()
		}
		if _, err := Serve(ctxT(t), rt, "tcp", "127.0.0.1:x", Config{Handler: newEcho()}); err == nil {
			t.Error("Serve on a bad address succeeded")
		}
	})
}

// TestIPv6Edges: on IPv6 loopback, a zone named by interface ("[::1%lo]") is taken as
// Go's net takes it, and a UDP datagram to a zero address goes to the unspecified
// address of the socket's family (this host), as Go's UDPConn sends it.
func TestIPv6Edges(t *testing.T) {
	if !ipv6OK() {
		t.Skip("no IPv6 here")
	}
	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		std, err := net.Listen("tcp6", "[::1%lo]:0")
		if err != nil {
			t.Skipf("Go's net does not listen on [::1%%lo] here: %v", err)
		}
		std.Close()
		ln := listenT(t, rt, "tcp6", "[::1%lo]:0")
		if a := ln.Addr().(*net.TCPAddr); !a.IP.Equal(net.IPv6loopback) || a.Port == 0 {
			t.Errorf("Listen [::1%%lo]: Addr %v", a)
		}
		for _, pc := range []net.PacketConn{mustPacket(t, rt), mustStdPacket(t)} {
			port := pc.LocalAddr().(*net.UDPAddr).Port
			if _, err := pc.WriteTo([]byte("v6"), &net.UDPAddr{Port: port}); err != nil {
				t.Fatalf("%T.WriteTo a zero address: %v", pc, err)
			}
			pc.SetReadDeadline(time.Now().Add(testDeadline))
			buf := make([]byte, 8)
			n, from, err := pc.ReadFrom(buf)
			if err != nil || string(buf[:n]) != "v6" || !from.(*net.UDPAddr).IP.IsLoopback() {
				t.Errorf("%T: read %q from %v, %v", pc, buf[:n], from, err)
			}
		}
	})
}

func mustPacket(t *testing.T, rt *runtime.Runtime) *PacketConn {
	t.Helper()
	c, err := ListenPacket(ctxT(t), rt, "udp6", "[::1]:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func mustStdPacket(t *testing.T) net.PacketConn {
	t.Helper()
	c, err := net.ListenPacket("udp6", "[::1]:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// emfileSocketsEnv tells a re-executed test binary to run TestSocketsUnderEMFILE's
// child, on the driver it names.
const emfileSocketsEnv = "ZNET_TEST_EMFILE_SOCKETS"

// TestSocketsUnderEMFILE: in a child process whose descriptor table is full
// (RLIMIT_NOFILE at the lowest free number), Dial, Listen, ListenPacket and Serve fail
// with EMFILE in a *net.OpError, as Go's net.Listen fails; and a Serve whose second
// listening socket cannot be made closes its first.
func TestSocketsUnderEMFILE(t *testing.T) {
	if k := os.Getenv(emfileSocketsEnv); k != "" {
		emfileSocketsChild(t, driver.Kind(k))
		return
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range testkit.Drivers(t) {
		t.Run(string(k), func(t *testing.T) {
			args := append([]string{"-test.run=^TestSocketsUnderEMFILE$", "-test.count=1", "-test.v"}, iouringblock.CoverArgs()...)
			cmd := exec.CommandContext(ctxT(t), exe, args...)
			cmd.Env = append(os.Environ(), emfileSocketsEnv+"="+string(k))
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("child: %v\n%s", err, out)
			}
		})
	}
}

func emfileSocketsChild(t *testing.T, k driver.Kind) {
	rt, err := runtime.New(runtime.Options{Loops: 2, Driver: k, NoPin: true})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(context.Background())
	ln, err := net.Listen("tcp", "127.0.0.1:0") // a peer to dial, made before the limit
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var old unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &old); err != nil {
		t.Fatal(err)
	}
	limit := func(extra int) {
		if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &old); err != nil {
			t.Fatal(err)
		}
		fd, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		unix.Close(fd) // fd is the lowest free number: the next descriptor gets it
		if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &unix.Rlimit{Cur: uint64(fd + extra), Max: old.Max}); err != nil {
			t.Fatal(err)
		}
	}
	defer unix.Setrlimit(unix.RLIMIT_NOFILE, &old)
	ctx := ctxT(t)
	h := newEcho()
	limit(0)
	for name, err := range map[string]error{
		"Dial":         second(Dial(ctx, rt, "tcp", ln.Addr().String())),
		"Listen":       second(Listen(ctx, rt, "tcp", "127.0.0.1:0")),
		"ListenPacket": second(ListenPacket(ctx, rt, "udp", "127.0.0.1:0")),
		"Serve":        second(Serve(ctx, rt, "tcp", "127.0.0.1:0", Config{Handler: h})),
		"Go's Listen":  second(net.Listen("tcp", "127.0.0.1:0")),
	} {
		var op *net.OpError
		if !errors.Is(err, syscall.EMFILE) || !errors.As(err, &op) {
			t.Errorf("%s with a full descriptor table: %v, want a *net.OpError with EMFILE", name, err)
		}
	}
	// Room for one socket: the first of Serve's two listening sockets.
	limit(1)
	if _, err := Serve(ctx, rt, "tcp", "127.0.0.1:0", Config{Handler: h, Accept: AcceptReusePort}); !errors.Is(err, syscall.EMFILE) {
		t.Errorf("Serve with room for one of its two sockets: %v, want EMFILE", err)
	}
	// The first socket was closed: its number is free again, and so one socket fits.
	c, err := ListenPacket(ctx, rt, "udp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("the failed Serve kept its first socket: %v", err)
	}
	c.Close()
}

// broadcaster writes to every other open connection of its loop when one closes, as
// a chat server says goodbye: during a runtime's shutdown those writes meet a driver
// that refuses new ops.
type broadcaster struct {
	echoHandler
	open  []*Conn // on the loop
	wrote chan error
}

func (h *broadcaster) OnOpen(c *Conn) {
	h.open = append(h.open, c)
	h.opened <- c
}

func (h *broadcaster) OnClose(c *Conn, err error) {
	for i, o := range h.open {
		if o == c {
			h.open = append(h.open[:i], h.open[i+1:]...)
			break
		}
	}
	for _, o := range h.open {
		_, werr := o.Write([]byte("bye"))
		h.wrote <- werr
	}
	h.closed <- err
}

// TestWritesDuringRuntimeClose: connections that write to each other from OnClose
// while the runtime closes under them each end exactly once, with net.ErrClosed (a
// write the closing driver refused ends its connection too), and leave no
// descriptor behind.
func TestWritesDuringRuntimeClose(t *testing.T) {
	for _, k := range testkit.Drivers(t) {
		t.Run(string(k), func(t *testing.T) {
			rt := newRuntime(t, k, 1) // closed here; its cleanup's Close is then a no-op
			h := &broadcaster{echoHandler: *newEcho(), wrote: make(chan error, 64)}
			s, err := Serve(ctxT(t), rt, "tcp", "127.0.0.1:0", Config{Handler: h})
			if err != nil {
				t.Fatal(err)
			}
			const n = 4
			for range n {
				c := dialStd(t, s)
				defer c.Close()
				select {
				case <-h.opened:
				case <-time.After(testDeadline):
					t.Fatalf("no OnOpen\n%s", hung())
				}
			}
			if err := rt.Close(ctxT(t)); err != nil {
				t.Fatal(err)
			}
			for range n {
				if err := recvErr(t, h.closed); err != nil && !errors.Is(err, net.ErrClosed) {
					t.Errorf("OnClose = %v, want nil or net.ErrClosed", err)
				}
			}
			select {
			case err := <-h.closed:
				t.Fatalf("a connection closed twice (%v)", err)
			default:
			}
			for len(h.wrote) > 0 {
				if err := <-h.wrote; err != nil && !errors.Is(err, net.ErrClosed) {
					t.Errorf("a goodbye write: %v, want nil or net.ErrClosed", err)
				}
			}
			s.Close(ctxT(t))
		})
	}
}

// TestUnknownZone: an IPv6 link-local address whose zone is a number naming no
// interface fails to bind, as with Go's net, and the error names the zone as given.
func TestUnknownZone(t *testing.T) {
	if !ipv6OK() {
		t.Skip("no IPv6 here")
	}
	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		const addr = "[fe80::1%4242]:0"
		_, err := Listen(ctxT(t), rt, "tcp6", addr)
		_, stdErr := net.Listen("tcp6", addr)
		var op *net.OpError
		if !errors.As(err, &op) || stdErr == nil || !strings.Contains(err.Error(), "%4242") {
			t.Errorf("Listen %s: %v; Go's: %v; want a bind error naming the zone", addr, err, stdErr)
		}
	})
}

// TestBrokenListener: when a server's listening socket breaks under it (shut down
// behind its back, so the kernel's accept fails with EINVAL), the loop stops serving:
// its connections close with net.ErrClosed, the port is released, and Server.Close
// still returns nil.
func TestBrokenListener(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		h := newEcho()
		s, err := Serve(ctxT(t), rt, "tcp", "127.0.0.1:0", Config{Handler: h})
		if err != nil {
			t.Fatal(err)
		}
		c := dialStd(t, s)
		defer c.Close()
		select {
		case <-h.opened:
		case <-time.After(testDeadline):
			t.Fatalf("no OnOpen\n%s", hung())
		}
		var lfd int
		rt.Loops()[0].Call(ctxT(t), func() { lfd = s.loops[0].lfd })
		if err := unix.Shutdown(lfd, unix.SHUT_RD); err != nil {
			t.Skipf("shutdown of a listening socket: %v", err)
		}
		if err := recvErr(t, h.closed); !errors.Is(err, net.ErrClosed) {
			t.Errorf("OnClose after the listener broke: %v, want net.ErrClosed", err)
		}
		if _, err := io.ReadAll(c); err != nil {
			t.Errorf("the peer's read after the server stopped: %v, want EOF", err)
		}
		if err := s.Close(ctxT(t)); err != nil {
			t.Errorf("Server.Close after the listener broke: %v", err)
		}
		if _, err := net.DialTimeout("tcp", s.Addr().String(), testDeadline); !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("a dial after the server stopped: %v, want ECONNREFUSED", err)
		}
	})
}

// TestDeadlineMovedLater: a deadline moved to the far future just as its old, nearly
// passed time fires is never expired by that old timer: after each move, Err is nil.
func TestDeadlineMovedLater(t *testing.T) {
	var d deadline
	d.init()
	defer d.shutdown()
	for i := range 20000 {
		d.set(time.Now().Add(time.Microsecond))
		d.set(time.Now().Add(time.Hour))
		if err := d.Err(); err != nil {
			t.Fatalf("iteration %d: a deadline an hour away reports %v", i, err)
		}
	}
}

// TestFallbackDeadlineMovedBack: a Read waiting in the loop's single receive (the
// reader fell back) whose deadline passes and is then cleared at once still ends with
// os.ErrDeadlineExceeded, as Go's net ends a read whose deadline passed, whichever of
// the two moves the read saw; and the next Read gets the data.
func TestFallbackDeadlineMovedBack(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		starveLoop(t, rt)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		acc := acceptT(t, ln)
		c := dialT(t, rt, "tcp", ln.Addr().String())
		peer := acceptedT(t, acc)
		peer.Write([]byte("x")) // the ENOBUFS that makes the reader fall back
		buf := make([]byte, 8)
		if _, err := c.Read(buf); err != nil || !c.rr.isFallback() {
			t.Fatalf("first Read: %v (fallback %v)", err, c.rr.isFallback())
		}
		// The starving server's own ops stay in flight throughout: a Read waits in the
		// loop once the count is above theirs.
		base := rt.DumpInFlight(ctxT(t), io.Discard)
		for i := range 100 {
			got := make(chan error, 1)
			go func() { _, err := c.Read(buf); got <- err }()
			waitOpsInFlight(t, rt, base+1)
			c.SetReadDeadline(time.Now().Add(-time.Second))
			c.SetReadDeadline(time.Time{})
			if err := waitForErr(t, got); !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("round %d: Read = %v, want os.ErrDeadlineExceeded", i, err)
			}
			end := time.Now().Add(testDeadline) // the cancelled receive drains
			for rt.DumpInFlight(ctxT(t), io.Discard) > base && time.Now().Before(end) {
				time.Sleep(time.Millisecond)
			}
		}
		peer.Write([]byte("y"))
		if n, err := c.Read(buf); err != nil || string(buf[:n]) != "y" {
			t.Fatalf("Read after the deadlines = %q, %v", buf[:n], err)
		}
	})
}

func waitForErr(t *testing.T, ch chan error) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(testDeadline):
		t.Fatalf("a Read never returned\n%s", hung())
		return nil
	}
}

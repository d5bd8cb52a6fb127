package znet

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/zokio/zokio/internal/testkit"
	"github.com/zokio/zokio/runtime"
)

// echoHandler writes back what it reads and reports opens and closes.
type echoHandler struct {
	opened chan *Conn
	closed chan error
}

func newEcho() *echoHandler {
	return &echoHandler{opened: make(chan *Conn, 1<<14), closed: make(chan error, 1<<14)}
}

func (h *echoHandler) OnOpen(c *Conn) { h.opened <- c }
func (h *echoHandler) OnData(c *Conn, b []byte) {
	if _, err := c.Write(b); err != nil {
		c.Close()
	}
}
func (h *echoHandler) OnClose(c *Conn, err error) { h.closed <- err }

func serveEcho(t *testing.T, rt *runtime.Runtime, h Handler, cfg Config) *Server {
	t.Helper()
	return serveOn(t, rt, "tcp", "127.0.0.1:0", h, cfg)
}

func serveOn(t *testing.T, rt *runtime.Runtime, network, addr string, h Handler, cfg Config) *Server {
	t.Helper()
	cfg.Handler = h
	s, err := Serve(ctxT(t), rt, network, addr, cfg)
	if err != nil {
		t.Fatalf("Serve: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(ctxT(t)); err != nil {
			t.Errorf("Server.Close: %v", err)
		}
	})
	return s
}

func dialStd(t *testing.T, s *Server) net.Conn {
	t.Helper()
	c, err := net.DialTimeout(s.Addr().Network(), s.Addr().String(), testDeadline)
	if err != nil {
		t.Fatal(err)
	}
	// A test that fails half-way must not leave the client open: the runtime's
	// cleanup counts descriptors, and a leftover client would read as a leak.
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(testDeadline))
	return c
}

func recvErr(t *testing.T, ch chan error) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(testDeadline):
		t.Fatalf("timed out waiting for OnClose\n%s", hung())
		return nil
	}
}

func TestEchoRoundTrip(t *testing.T) {
	modes := []AcceptMode{AcceptHandoff}
	if haveReusePort {
		modes = append(modes, AcceptReusePort)
	}
	for _, mode := range modes {
		forEachDriver(t, 2, func(t *testing.T, rt *runtime.Runtime) {
			h := newEcho()
			s := serveEcho(t, rt, h, Config{Accept: mode})
			loops := map[*runtime.Loop]int{}
			for i := 0; i < 8; i++ {
				c := dialStd(t, s)
				msg := bytes.Repeat([]byte{byte('a' + i)}, 100000)
				go c.Write(msg)
				got := make([]byte, len(msg))
				if _, err := io.ReadFull(c, got); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, msg) {
					t.Fatal("echo mismatch")
				}
				c.Close()
				loops[(<-h.opened).Loop()]++
				if err := recvErr(t, h.closed); err != io.EOF {
					t.Fatalf("OnClose err = %v, want io.EOF", err)
				}
			}
			if mode == AcceptHandoff && len(loops) != 2 {
				t.Errorf("handoff used loops %v, want both", loops)
			}
		})
	}
}

// TestEchoZeroAlloc checks that an echo round trip allocates nothing in steady state:
// receive into the loop's buffer group, copy into the send buffer, one send.
func TestEchoZeroAlloc(t *testing.T) {
	testkit.SkipUnderFaults(t, "the fault-injecting wrapper allocates per op")
	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		s := serveEcho(t, rt, newEcho(), Config{IdleTimeout: time.Minute, ReadTimeout: time.Minute})
		c := dialStd(t, s)
		defer c.Close()
		checkNoAllocRoundTrip(t, c, 64)
	})
}

// checkNoAllocRoundTrip echoes size-byte messages through c, warms up, then fails the
// test if a round trip allocates (in this process: the client and the server).
func checkNoAllocRoundTrip(t *testing.T, c net.Conn, size int) {
	t.Helper()
	msg, got := make([]byte, size), make([]byte, size)
	roundTrip := func() {
		if _, err := c.Write(msg); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(c, got); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 100; i++ {
		roundTrip()
	}
	if n := testing.AllocsPerRun(2000, roundTrip); n != 0 {
		t.Errorf("%v allocations per %d-byte echo round trip, want 0", n, size)
	}
}

// halfCloser answers EOF with "bye" and closes, and closes its own writing side on
// "shut".
type halfCloser struct{ echoHandler }

func (h *halfCloser) OnData(c *Conn, b []byte) {
	if string(b) == "shut" {
		c.Write([]byte("last"))
		c.CloseWrite()
		return
	}
	c.Write(b)
}

func (h *halfCloser) OnEOF(c *Conn) {
	c.Write([]byte("bye"))
	c.Close()
}

func TestEventHalfClose(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		h := &halfCloser{*newEcho()}
		s := serveEcho(t, rt, h, Config{})
		// The peer shuts down its side; the server still writes, then closes. The
		// bytes and the FIN often arrive together, in one readiness event: repeated,
		// so that case is met every run.
		for i := 0; i < 100; i++ {
			c := dialStd(t, s)
			c.Write([]byte("hello"))
			c.(*net.TCPConn).CloseWrite()
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			all, err := io.ReadAll(c)
			c.Close()
			if err != nil || string(all) != "hellobye" {
				t.Fatalf("attempt %d: read %q, %v; want hellobye then EOF", i, all, err)
			}
			if err := recvErr(t, h.closed); err != nil {
				t.Fatalf("OnClose: %v", err)
			}
		}
		var all []byte
		var err error
		// The server shuts down its side; the peer still writes and is echoed...
		// not: the server's writing side is shut, so it reads and drops.
		c := dialStd(t, s)
		c.Write([]byte("shut"))
		all, err = io.ReadAll(c)
		if err != nil || string(all) != "last" {
			t.Fatalf("read %q, %v; want last then EOF", all, err)
		}
		c.Close()
		recvErr(t, h.closed)
	})
}

func TestEventPeerReset(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		h := newEcho()
		s := serveEcho(t, rt, h, Config{})
		c := dialStd(t, s)
		c.Write([]byte("x"))
		io.ReadFull(c, make([]byte, 1))
		c.(*net.TCPConn).SetLinger(0)
		c.Close()
		err := recvErr(t, h.closed)
		var oe *net.OpError
		if !errors.As(err, &oe) || !errors.Is(err, errConnReset) {
			t.Fatalf("OnClose err = %#v, want a *net.OpError with ECONNRESET", err)
		}
	})
}

// closer closes a connection in OnData with a large write pending: the peer gets all
// of it, then EOF.
type closer struct {
	echoHandler
	n     int
	abort bool
}

func (h *closer) OnData(c *Conn, b []byte) {
	c.Write(bytes.Repeat([]byte{'z'}, h.n))
	if h.abort {
		c.Abort()
	} else {
		c.Close()
	}
}

func TestEventCloseFlushes(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		h := &closer{echoHandler: *newEcho(), n: 4 << 20}
		s := serveEcho(t, rt, h, Config{WriteBufferLimit: 8 << 20})
		c := dialStd(t, s)
		c.Write([]byte("go"))
		all, err := io.ReadAll(c)
		if err != nil || len(all) != h.n {
			t.Fatalf("read %d bytes, %v; want %d then EOF", len(all), err, h.n)
		}
		c.Close()
		if err := recvErr(t, h.closed); err != nil {
			t.Fatalf("OnClose: %v", err)
		}
	})
}

// TestEventCloseInFlight closes connections whose receive and send are both in
// flight (the peer reads nothing, so the send is stuck), by Abort and by a flush
// timeout: both end, nothing leaks.
func TestEventCloseInFlight(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		for _, abort := range []bool{true, false} {
			h := &closer{echoHandler: *newEcho(), n: 32 << 20, abort: abort}
			s := serveEcho(t, rt, h, Config{WriteBufferLimit: 64 << 20, FlushTimeout: 50 * time.Millisecond})
			c := dialStd(t, s)
			c.Write([]byte("go"))
			if err := recvErr(t, h.closed); err != nil {
				t.Fatalf("abort=%v: OnClose: %v", abort, err)
			}
			c.Close()
		}
	})
}

func TestEventIdleAndReadTimeout(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		// The timeout is 15 times the peer's pace: on a loaded 2-CPU host the loop's
		// thread can be off its CPU for 150 ms, and a timer due by then fires before
		// the tick reaps the data that arrived meanwhile (a real idle period as far
		// as the server could see).
		const timeout = 300 * time.Millisecond
		for _, cfg := range []Config{{IdleTimeout: timeout}, {ReadTimeout: timeout}} {
			h := newEcho()
			s := serveEcho(t, rt, h, cfg)
			c := dialStd(t, s)
			defer c.Close()
			// Activity keeps it open...
			var last time.Time // before the last write: the server's last activity is later
			for i := 0; i < 5; i++ {
				if i > 0 {
					time.Sleep(20 * time.Millisecond) // the peer's pace, not a wait for the server
				}
				last = time.Now()
				c.Write([]byte("x"))
				io.ReadFull(c, make([]byte, 1))
			}
			// ...and silence ends it.
			err := recvErr(t, h.closed)
			if !errors.Is(err, ErrIdleTimeout) || !errors.Is(err, errDeadline) {
				t.Fatalf("OnClose err = %v, want ErrIdleTimeout", err)
			}
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() {
				t.Fatalf("OnClose err %v is not a net.Error timeout", err)
			}
			if d := time.Since(last); d < timeout {
				t.Fatalf("closed %v after the last activity, before the timeout", d)
			}
			if _, err := c.Read(make([]byte, 1)); err != io.EOF {
				t.Fatalf("peer read %v, want EOF", err)
			}
		}
	})
}

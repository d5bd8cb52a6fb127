package znet

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zokio/zokio/internal/testkit"

	"github.com/zokio/zokio/runtime"
)

// eofKeeper keeps connections open after the peer's EOF: nothing stays in flight on
// them.
type eofKeeper struct {
	eof    chan struct{}
	closed chan error
}

func (h *eofKeeper) OnOpen(*Conn)               {}
func (h *eofKeeper) OnData(*Conn, []byte)       {}
func (h *eofKeeper) OnEOF(*Conn)                { h.eof <- struct{}{} }
func (h *eofKeeper) OnClose(_ *Conn, err error) { h.closed <- err }

// TestRuntimeCloseReachesEveryLoop closes the runtime under a handoff server whose
// connections, on both loops, have nothing in flight: every one is closed (OnClose
// runs), and no descriptor is left.
func TestRuntimeCloseReachesEveryLoop(t *testing.T) {
	for _, k := range testkit.Drivers(t) {
		t.Run(string(k), func(t *testing.T) {
			before := testkit.FDCount(t)
			rt, err := runtime.New(runtime.Options{Loops: 2, Driver: k, NoPin: true})
			if err != nil {
				t.Fatal(err)
			}
			h := &eofKeeper{make(chan struct{}, 4), make(chan error, 4)}
			s, err := Serve(ctxT(t), rt, "tcp", "127.0.0.1:0", Config{Handler: h, Accept: AcceptHandoff})
			if err != nil {
				t.Fatal(err)
			}
			var cs []net.Conn
			for range 2 { // the second lands on loop 1, which has no listener
				c := dialStd(t, s)
				c.(*net.TCPConn).CloseWrite()
				select {
				case <-h.eof:
				case <-time.After(testDeadline):
					t.Fatalf("no OnEOF\n%s", hung())
				}
				cs = append(cs, c)
			}
			if err := rt.Close(ctxT(t)); err != nil {
				t.Fatal(err)
			}
			for range 2 {
				select {
				case err := <-h.closed:
					if !errors.Is(err, net.ErrClosed) {
						t.Errorf("OnClose(%v), want net.ErrClosed", err)
					}
				case <-time.After(testDeadline):
					t.Fatal("a connection was never closed when the runtime closed")
				}
			}
			if err := s.Close(ctxT(t)); err != nil {
				t.Errorf("Server.Close after the runtime's: %v", err)
			}
			for _, c := range cs {
				c.Close()
			}
			if n := testkit.FDCount(t); n > before {
				t.Errorf("descriptor leak: %d open, %d before", n, before)
			}
		})
	}
}

// TestDeadlineResetAfterExpiry: a deadline that fires and is moved back at once still
// ends the blocked Read with os.ErrDeadlineExceeded, never with "operation canceled".
func TestDeadlineResetAfterExpiry(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		sln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer sln.Close()
		for i := range 50 {
			c := dialT(t, rt, "tcp", sln.Addr().String())
			peer, err := sln.Accept()
			if err != nil {
				t.Fatal(err)
			}
			if c.rr.isFallback() {
				// waitReadBlocked counts in-flight ops on this path: let the last
				// attempt's close drain first, or its op would count as the Read's.
				waitNoOpsInFlight(t, c)
			}
			done := make(chan error, 1)
			go func() { _, err := c.Read(make([]byte, 16)); done <- err }()
			waitReadBlocked(t, c) // the read waits for the loop
			c.SetReadDeadline(time.Unix(1, 0))
			c.SetReadDeadline(time.Time{})
			if err := <-done; !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("attempt %d: Read: %v, want os.ErrDeadlineExceeded", i, err)
			}
			c.Close()
			peer.Close()
		}
	})
}

// waitReadBlocked waits until a Read on c waits for its loop's receive: there is no
// event for "a goroutine's call now blocks", so it looks every millisecond, within the
// test deadline, at the reader's waiting flag (a Read on the multishot receive) or at
// the driver's in-flight table (a Read's single receive, after the fallback).
// waitNoOpsInFlight waits until c's runtime has no op in flight (looking every
// millisecond within the test deadline, as waitReadBlocked does).
func waitNoOpsInFlight(t *testing.T, c *NetConn) {
	t.Helper()
	end := time.Now().Add(testDeadline)
	for c.l.Runtime().DumpInFlight(ctxT(t), io.Discard) > 0 {
		if time.Now().After(end) {
			t.Fatalf("ops stay in flight\n%s", hung())
		}
		time.Sleep(time.Millisecond)
	}
}

func waitReadBlocked(t *testing.T, c *NetConn) {
	t.Helper()
	end := time.Now().Add(testDeadline)
	for !c.rr.isWaiting() && !(c.rr.isFallback() && c.l.Runtime().DumpInFlight(ctxT(t), io.Discard) >= 1) {
		if time.Now().After(end) {
			t.Fatalf("the Read does not block\n%s", hung())
		}
		time.Sleep(time.Millisecond)
	}
}

// TestHandoffStartup: connections waiting in the backlog when a Unix-socket server
// starts are accepted at once and handed to the other loop, which must be ready.
func TestHandoffStartup(t *testing.T) {
	requireUnix(t)
	forEachDriver(t, 2, func(t *testing.T, rt *runtime.Runtime) {
		for round := range 5 {
			path := filepath.Join(testkit.TempDir(t), "s")
			ln, err := net.Listen("unix", path) // bind first so clients can queue
			if err != nil {
				t.Fatal(err)
			}
			ln.(*net.UnixListener).SetUnlinkOnClose(false)
			ln.Close()
			os.Remove(path)
			conns := make(chan net.Conn, 8)
			go func() {
				defer close(conns)
				deadline := time.Now().Add(testDeadline)
				for n := 0; n < 8 && time.Now().Before(deadline); {
					if c, err := net.Dial("unix", path); err == nil {
						conns <- c
						n++
					}
				}
			}()
			s, err := Serve(ctxT(t), rt, "unix", path, Config{Handler: newEcho()})
			if err != nil {
				t.Fatal(err)
			}
			for c := range conns {
				c.SetDeadline(time.Now().Add(testDeadline))
				_, err := c.Write([]byte("ping"))
				if err == nil {
					_, err = io.ReadFull(c, make([]byte, 4))
				}
				if err != nil {
					t.Errorf("round %d: connection dropped: %v", round, err)
				}
				c.Close()
			}
			if err := s.Close(ctxT(t)); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// strictEcho fails on any write error, to check that echoing never meets one.
type strictEcho struct{ errs chan error }

func (h *strictEcho) OnOpen(*Conn) {}
func (h *strictEcho) OnData(c *Conn, b []byte) {
	if _, err := c.Write(b); err != nil {
		select {
		case h.errs <- err:
		default:
		}
		c.Close()
	}
}
func (h *strictEcho) OnClose(*Conn, error) {}

// TestSmallWriteBufferLimitEcho: a WriteBufferLimit below two receive buffers is
// raised, so an echo handler never meets ErrWriteBufferFull.
func TestSmallWriteBufferLimitEcho(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		h := &strictEcho{make(chan error, 1)}
		s := serveEcho(t, rt, h, Config{WriteBufferLimit: 4096})
		c := dialStd(t, s)
		defer c.Close()
		msg := make([]byte, 1<<20)
		go c.Write(msg)
		if _, err := io.ReadFull(c, make([]byte, len(msg))); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-h.errs:
			t.Fatal(err)
		default:
		}
	})
}

// TestDialContextErrors: a Dial whose context has ended fails as Go's Dial does: an
// "i/o timeout" that matches context.DeadlineExceeded (and, like net's, not
// os.ErrDeadlineExceeded, which names a passed SetDeadline), or "operation was
// canceled" that matches context.Canceled.
func TestDialContextErrors(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		past, cancel := context.WithDeadline(context.Background(), time.Unix(1, 0))
		defer cancel()
		_, err := Dial(past, rt, "tcp", "127.0.0.1:9")
		var oe *net.OpError
		if !errors.As(err, &oe) || !oe.Timeout() || !errors.Is(err, context.DeadlineExceeded) ||
			errors.Is(err, os.ErrDeadlineExceeded) || !strings.Contains(err.Error(), "i/o timeout") {
			t.Fatalf("Dial past its deadline: %v", err)
		}
		cancelled, cancel2 := context.WithCancel(context.Background())
		cancel2()
		_, err = Dial(cancelled, rt, "tcp", "127.0.0.1:9")
		if !errors.As(err, &oe) || oe.Timeout() || !errors.Is(err, context.Canceled) {
			t.Fatalf("Dial with a cancelled context: %v", err)
		}
	})
}

// doubleReleaser retains each buffer, echoes it later, and releases it through a copy
// first and the original after: the second Release must do nothing, or the buffer
// would go back to the group twice and two receives could share it.
type doubleReleaser struct{ echoHandler }

func (h *doubleReleaser) OnData(c *Conn, b []byte) {
	r := c.Retain()
	c.Loop().AfterFunc(time.Millisecond, func() {
		c.Write(r.Bytes())
		cp := r
		cp.Release()
		r.Release()
	})
}

// TestRetainedCopyReleasedTwice streams checksummed data through a server whose
// handler releases every retained buffer twice (through a copy): nothing is corrupted.
func TestRetainedCopyReleasedTwice(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		h := &doubleReleaser{*newEcho()}
		s := serveEcho(t, rt, h, Config{RecvBuffers: 4, RecvBufferSize: 64})
		streamThrough(t, s, 4)
	})
}

// TestUDPWriteToNilIP: a *net.UDPAddr without an IP means the unspecified address, as
// in Go's net; the datagram reaches a socket of this host on that port.
func TestUDPWriteToNilIP(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		// The receiver is ours too: Go's own UDP sockets fail under Wine (it rejects
		// SIO_UDP_NETRESET, ../shared/PLATFORMS.md).
		dst, err := ListenPacket(ctxT(t), rt, "udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer dst.Close()
		pc, err := ListenPacket(ctxT(t), rt, "udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer pc.Close()
		port := dst.LocalAddr().(*net.UDPAddr).Port
		if _, err := pc.WriteTo([]byte("hi"), &net.UDPAddr{Port: port}); err != nil {
			t.Fatalf("WriteTo with a nil IP: %v", err)
		}
		dst.SetReadDeadline(time.Now().Add(testDeadline))
		buf := make([]byte, 8)
		if n, _, err := dst.ReadFrom(buf); err != nil || string(buf[:n]) != "hi" {
			t.Fatalf("received %q, %v", buf[:n], err)
		}
	})
}

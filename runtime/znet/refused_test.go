package znet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/zokio/zokio/internal/testkit"
	"github.com/zokio/zokio/poller"
	"github.com/zokio/zokio/runtime"
	"github.com/zokio/zokio/runtime/driver"
)

// Tests of what znet does when a real driver refuses a submission (the ring full and
// not draining, the kernel out of memory): the op never runs, so znet must end what
// depended on it with an error, close what it holds, and lose nothing else. The
// refusals come from refusingDriver, a wrapper around the real driver that refuses
// the submissions a policy picks, and forwards everything else.

// refusals is the policy the refusing drivers of one runtime share.
type refusals struct {
	submit  atomic.Pointer[func(*poller.Op) bool] // the submissions to refuse (nil: none)
	groups  atomic.Int32                          // buffer groups allowed before refusals (-1: all)
	refused atomic.Int64                          // submissions and groups refused
	// complete picks submissions that are accepted but not run: each completes, once
	// and finally, with the result the policy gives, at the loop's next Wait (what
	// the kernel reports for an op that failed at once).
	complete  atomic.Pointer[func(*poller.Op) (int32, bool)]
	completed atomic.Int64
	closes    atomic.Int64 // OpClose submissions passed on to the real driver
}

func (p *refusals) completeWith(f func(*poller.Op) (int32, bool)) { p.complete.Store(&f) }

var errRefused = fmt.Errorf("znet test: submission refused: %w", syscall.ENOMEM)

func (p *refusals) refuse(f func(*poller.Op) bool) { p.submit.Store(&f) }
func (p *refusals) allow()                         { p.submit.Store(nil) }

type refusingDriver struct {
	poller.Driver
	p     *refusals
	synth []synthetic // accepted ops the next Wait completes (on the loop only)
}

type synthetic struct {
	op  *poller.Op
	res int32
}

func (d *refusingDriver) Submit(op *poller.Op) error {
	if f := d.p.submit.Load(); f != nil && (*f)(op) {
		d.p.refused.Add(1)
		return errRefused
	}
	if f := d.p.complete.Load(); f != nil {
		if res, ok := (*f)(op); ok {
			if op.InFlight() {
				return poller.ErrInFlight
			}
			op.Ref = 1 << 62 // in flight, with a reference no real driver hands out
			d.synth = append(d.synth, synthetic{op, res})
			d.p.completed.Add(1)
			return nil
		}
	}
	if op.Code == poller.OpClose {
		d.p.closes.Add(1)
	}
	return d.Driver.Submit(op)
}

// deliver completes the synthetic ops queued so far with res (or their own result,
// when res is 0) and returns how many.
func (d *refusingDriver) deliver(res int32) int {
	q := d.synth
	d.synth = nil
	for _, s := range q {
		s.op.Res, s.op.Result, s.op.Ref = s.res, 0, 0
		if res != 0 {
			s.op.Res = res
		}
		s.op.Done(s.op)
	}
	return len(q)
}

func (d *refusingDriver) Wait(timeout time.Duration) (int, error) {
	if n := d.deliver(0); n > 0 {
		m, err := d.Driver.Wait(0)
		return n + m, err
	}
	return d.Driver.Wait(timeout)
}

func (d *refusingDriver) Cancel(op *poller.Op) error {
	for _, s := range d.synth {
		if s.op == op {
			return nil // it completes at the next Wait anyway
		}
	}
	return d.Driver.Cancel(op)
}

func (d *refusingDriver) Close() error {
	d.deliver(-int32(syscall.ECANCELED))
	return d.Driver.Close()
}

func (d *refusingDriver) NewBufferGroup(count, size int) (poller.BufferGroup, error) {
	for {
		n := d.p.groups.Load()
		if n < 0 {
			break
		}
		if n == 0 {
			d.p.refused.Add(1)
			return nil, errRefused
		}
		if d.p.groups.CompareAndSwap(n, n-1) {
			break
		}
	}
	return d.Driver.NewBufferGroup(count, size)
}

// The optional interfaces the runtime looks for, forwarded.
func (d *refusingDriver) Unwrap() poller.Driver { return d.Driver }
func (d *refusingDriver) Stats() poller.Stats {
	if r, ok := d.Driver.(poller.StatsReporter); ok {
		return r.Stats()
	}
	return poller.Stats{}
}
func (d *refusingDriver) InFlight(dst []poller.InFlightOp) []poller.InFlightOp {
	if r, ok := d.Driver.(poller.InFlightReporter); ok {
		return r.InFlight(dst)
	}
	return dst
}
func (d *refusingDriver) CompletionsReady() bool {
	if len(d.synth) > 0 {
		return true
	}
	if r, ok := d.Driver.(interface{ CompletionsReady() bool }); ok {
		return r.CompletionsReady()
	}
	return false
}

// refusingRuntime starts a runtime on driver k whose loops' drivers refuse what p
// says; cleanup closes it and checks that no descriptor leaked.
func refusingRuntime(t *testing.T, k driver.Kind, loops int, p *refusals) *runtime.Runtime {
	t.Helper()
	testkit.SkipUnderFaults(t, "the driver hook is the fault schedule's")
	if p.groups.Load() == 0 {
		p.groups.Store(-1)
	}
	return newRuntimeWrapped(t, k, loops, func(d poller.Driver) poller.Driver { return &refusingDriver{Driver: d, p: p} })
}

func forEachRefusing(t *testing.T, loops int, fn func(t *testing.T, rt *runtime.Runtime, p *refusals)) {
	t.Helper()
	for _, k := range testkit.Drivers(t) {
		t.Run(string(k), func(t *testing.T) {
			p := &refusals{}
			fn(t, refusingRuntime(t, k, loops, p), p)
		})
	}
}

func opIs(code poller.Opcode) func(*poller.Op) bool {
	return func(op *poller.Op) bool { return op.Code == code }
}

// firstN picks the first n submissions of code, and no later one.
func firstN(code poller.Opcode, n int64) func(*poller.Op) bool {
	var seen atomic.Int64
	return func(op *poller.Op) bool { return op.Code == code && seen.Add(1) <= n }
}

// echoThenEOF writes msg on c and checks that the peer echoes it, then ends the
// stream.
func echoThenEOF(t *testing.T, c net.Conn, msg string) {
	t.Helper()
	if _, err := c.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(c)
	if err != nil || string(b) != msg {
		t.Fatalf("peer read %q, %v; want the echo, then EOF", b, err)
	}
}

// echoOnce checks that a server on rt still echoes a message.
func echoOnce(t *testing.T, s *Server) {
	t.Helper()
	c := dialStd(t, s)
	defer c.Close()
	if _, err := c.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 4)
	if _, err := io.ReadFull(c, got); err != nil || string(got) != "ping" {
		t.Fatalf("echo: %q, %v", got, err)
	}
}

// TestServeAcceptRefused: the accept a Server arms on each loop is refused. Serve
// fails with that error (errors.Is finds it) as a *net.OpError naming the address,
// and closes its listening sockets; the runtime serves again once accepts go through.
func TestServeAcceptRefused(t *testing.T) {
	forEachRefusing(t, 2, func(t *testing.T, rt *runtime.Runtime, p *refusals) {
		p.refuse(opIs(poller.OpAccept))
		s, err := Serve(ctxT(t), rt, "tcp", "127.0.0.1:0", Config{Handler: newEcho()})
		if err == nil {
			s.Close(ctxT(t))
			t.Fatal("Serve with its accepts refused succeeded")
		}
		var oe *net.OpError
		if !errors.Is(err, syscall.ENOMEM) || !errors.As(err, &oe) || oe.Op != "listen" || oe.Addr == nil {
			t.Fatalf("Serve: %v (%T), want a listen *net.OpError with the address, matching ENOMEM", err, err)
		}
		// The port is free again: a listener binds it without SO_REUSEPORT.
		ln, err := net.Listen("tcp", oe.Addr.String())
		if err != nil {
			t.Fatalf("the refused server's port %s is still held: %v", oe.Addr, err)
		}
		ln.Close()
		p.allow()
		echoOnce(t, serveEcho(t, rt, newEcho(), Config{}))
	})
}

// TestConnReceiveRefused: an accepted connection's receive is refused. The connection
// fails with the refusal (OnClose's error matches it) and closes: the peer reads EOF, and
// the server's other connections are served once receives go through again.
func TestConnReceiveRefused(t *testing.T) {
	forEachRefusing(t, 1, func(t *testing.T, rt *runtime.Runtime, p *refusals) {
		h := newEcho()
		s := serveEcho(t, rt, h, Config{})
		p.refuse(opIs(poller.OpRecv))
		c := dialStd(t, s)
		defer c.Close()
		if err := recvErr(t, h.closed); !errors.Is(err, syscall.ENOMEM) {
			t.Fatalf("OnClose after the refused receive: %v, want the refusal (ENOMEM)", err)
		}
		if n, err := c.Read(make([]byte, 1)); n != 0 || err != io.EOF {
			t.Fatalf("peer of the closed connection read %d, %v; want EOF", n, err)
		}
		p.allow()
		echoOnce(t, s)
	})
}

// TestConnSendRefused: a connection's send is refused, by the copy path (Write), by
// the path of retained buffers (WriteRetained) and by a vectored send of both. The
// connection fails with the refusal and closes, dropping its output: the peer reads
// nothing of the echo, then EOF (or a reset, where the server closed with bytes of
// the peer's unread).
func TestConnSendRefused(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    func() (Handler, chan error)
	}{
		{"Write", func() (Handler, chan error) { h := newEcho(); return h, h.closed }},
		{"WriteRetained", func() (Handler, chan error) { h := &retainEcho{echoHandler: *newEcho()}; return h, h.closed }},
		{"Pieces", func() (Handler, chan error) { h := &piecesEcho{echoHandler: *newEcho()}; return h, h.closed }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			forEachRefusing(t, 1, func(t *testing.T, rt *runtime.Runtime, p *refusals) {
				h, closed := tc.h()
				s := serveEcho(t, rt, h, Config{})
				if tc.name != "Pieces" {
					echoOnce(t, s)
				} else {
					c := dialStd(t, s)
					c.Write([]byte("ab"))
					got := make([]byte, 4)
					if _, err := io.ReadFull(c, got); err != nil || string(got) != "[]ab" {
						t.Fatalf("pieces echo: %q, %v; want \"[]ab\"", got, err)
					}
					c.Close()
				}
				if err := recvErr(t, closed); err != io.EOF {
					t.Fatalf("OnClose of the first connection: %v, want EOF", err)
				}
				p.refuse(func(op *poller.Op) bool {
					return op.Code == poller.OpSend || op.Code == poller.OpSendmsg || op.Code == poller.OpSendZC
				})
				c := dialStd(t, s)
				defer c.Close()
				// Large enough that WriteRetained queues the buffer itself rather than a copy.
				if _, err := c.Write(make([]byte, 4*retainedCopyBelow)); err != nil {
					t.Fatal(err)
				}
				if err := recvErr(t, closed); !errors.Is(err, syscall.ENOMEM) {
					t.Fatalf("OnClose after the refused send: %v, want the refusal (ENOMEM)", err)
				}
				// EOF, or a reset where the server closed with bytes of ours unread.
				if b, err := io.ReadAll(c); len(b) != 0 || err != nil && !errors.Is(err, errConnReset) {
					t.Fatalf("peer read %q, %v after the refused send; want nothing, then EOF or a reset", b, err)
				}
				if p.refused.Load() == 0 {
					t.Fatal("no send was refused")
				}
			})
		})
	}
}

// piecesEcho writes a copied prefix, then the received buffer itself, so that each
// send is a vectored one of pieces (Conn.WriteRetained behind copied bytes).
type piecesEcho struct{ echoHandler }

func (h *piecesEcho) OnData(c *Conn, b []byte) {
	r := c.Retain()
	c.Write([]byte("[]"))
	if _, err := c.WriteRetained(&r); err != nil {
		r.Release()
		c.Close()
	}
}

// shutHandler half-closes each connection when its first data arrives.
type shutHandler struct{ echoHandler }

func (h *shutHandler) OnData(c *Conn, b []byte) {
	c.Write(b)
	if err := c.CloseWrite(); err != nil {
		h.closed <- fmt.Errorf("CloseWrite: %w", err)
	}
}

// TestConnShutdownRefused: the shutdown(SHUT_WR) behind Conn.CloseWrite is refused.
// The connection fails with the refusal and closes, after the bytes written
// before CloseWrite were sent; the peer reads them, then EOF.
func TestConnShutdownRefused(t *testing.T) {
	forEachRefusing(t, 1, func(t *testing.T, rt *runtime.Runtime, p *refusals) {
		h := &shutHandler{echoHandler: *newEcho()}
		s := serveEcho(t, rt, h, Config{})
		p.refuse(opIs(poller.OpShutdown))
		c := dialStd(t, s)
		defer c.Close()
		echoThenEOF(t, c, "half")
		if err := recvErr(t, h.closed); !errors.Is(err, syscall.ENOMEM) {
			t.Fatalf("OnClose after the refused shutdown: %v, want the refusal (ENOMEM)", err)
		}
		if p.refused.Load() == 0 {
			t.Fatal("no shutdown was refused")
		}
	})
}

// TestNetConnBackgroundReceiveRefused: the background multishot receive of a net.Conn
// adapter is refused, or the receive group it needs; Read falls back to the loop's
// single receives (or direct calls) and every byte arrives, in order.
func TestNetConnBackgroundReceiveRefused(t *testing.T) {
	t.Run("receive", func(t *testing.T) {
		netConnRefusedRead(t, func(p *refusals) {
			p.refuse(func(op *poller.Op) bool { return op.Code == poller.OpRecv && op.Flags&poller.FlagMultishot != 0 })
		})
	})
	t.Run("group", func(t *testing.T) {
		netConnRefusedRead(t, func(p *refusals) { p.groups.Store(0) })
	})
}

func netConnRefusedRead(t *testing.T, refuse func(*refusals)) {
	forEachRefusing(t, 1, func(t *testing.T, rt *runtime.Runtime, p *refusals) {
		refuse(p)
		ln, err := Listen(ctxT(t), rt, "tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		msg := make([]byte, 256<<10)
		for i := range msg {
			msg[i] = byte(i * 7)
		}
		go func() {
			c, err := net.DialTimeout("tcp", ln.Addr().String(), testDeadline)
			if err != nil {
				return
			}
			defer c.Close()
			c.Write(msg)
		}()
		c, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(testDeadline))
		got, err := io.ReadAll(c)
		if err != nil || string(got) != string(msg) {
			t.Fatalf("read %d of %d bytes (%v), or they differ", len(got), len(msg), err)
		}
	})
}

// TestRecvGroupGrowthRefused: the receive group runs dry often enough to grow, but
// the driver refuses the larger group. The loop keeps serving from the group it has:
// every byte is echoed, and no growth is counted.
func TestRecvGroupGrowthRefused(t *testing.T) {
	forEachRefusing(t, 1, func(t *testing.T, rt *runtime.Runtime, p *refusals) {
		before := loopRecvStats(t, rt)
		p.groups.Store(1) // the server's first group, then none
		s := serveEcho(t, rt, &retainEcho{echoHandler: *newEcho()}, Config{RecvBuffers: 4, RecvBufferSize: 4096})
		done := make(chan error, 4)
		for i := range 4 {
			c := dialStd(t, s)
			defer c.Close()
			msg := make([]byte, 128<<10)
			for j := range msg {
				msg[j] = byte(i + j)
			}
			go c.Write(msg)
			go func() {
				got := make([]byte, len(msg))
				_, err := io.ReadFull(c, got)
				if err == nil && string(got) != string(msg) {
					err = errors.New("the echo differs from what was sent")
				}
				done <- err
			}()
		}
		for range 4 {
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		}
		st := loopRecvStats(t, rt)
		if nb := st.NoBufs - before.NoBufs; nb < 4 {
			t.Skipf("the group ran dry %d times, too few to grow", nb)
		}
		if g := st.Grows - before.Grows; g != 0 || p.refused.Load() == 0 {
			t.Fatalf("grows %d, groups refused %d; want no growth and a refusal", g, p.refused.Load())
		}
	})
}

// closeOnData closes each connection when its first data arrives.
type closeOnData struct{ echoHandler }

func (h *closeOnData) OnData(c *Conn, b []byte) {
	c.Write(b)
	c.Close()
}

// TestConnCloseRefused: the close through the driver is refused, several times, while
// the connection's multishot receive runs. The connection cancels that receive and
// submits the close again after a backoff until the driver takes it: a descriptor the
// live driver has seen is never closed behind its back (TestCloseRefusedNumberReused
// shows why). OnClose runs once, with a nil error; the peer reads the echo, then EOF,
// and no descriptor is left open (refusingRuntime checks).
func TestConnCloseRefused(t *testing.T) {
	forEachRefusing(t, 1, func(t *testing.T, rt *runtime.Runtime, p *refusals) {
		h := &closeOnData{echoHandler: *newEcho()}
		s := serveEcho(t, rt, h, Config{})
		p.refuse(firstN(poller.OpClose, 4))
		c := dialStd(t, s)
		defer c.Close()
		echoThenEOF(t, c, "last")
		if err := recvErr(t, h.closed); err != nil {
			t.Fatalf("OnClose: %v, want nil", err)
		}
		if n := p.refused.Load(); n != 4 {
			t.Fatalf("%d closes refused, want 4", n)
		}
		if p.closes.Load() != 1 {
			t.Fatalf("%d closes reached the driver, want 1", p.closes.Load())
		}
		p.allow()
		select {
		case err := <-h.closed:
			t.Fatalf("OnClose ran twice (again with %v)", err)
		default:
		}
	})
}

// once returns a completion policy that takes the first submission match picks, with
// result res, and lets every later one through.
func once(match func(*poller.Op) bool, res int32) func(*poller.Op) (int32, bool) {
	var done atomic.Bool
	return func(op *poller.Op) (int32, bool) {
		if match(op) && done.CompareAndSwap(false, true) {
			return res, true
		}
		return 0, false
	}
}

// TestServeAcceptAbortedRearms: a Server's multishot accept ends with ECONNABORTED (a
// handshake the peer gave up). The server arms it again and serves; if the driver
// refuses that re-arm, the loop stops accepting and closes its listening socket, and
// Server.Close still returns.
func TestServeAcceptAbortedRearms(t *testing.T) {
	aborted := -int32(syscall.ECONNABORTED)
	forEachRefusing(t, 1, func(t *testing.T, rt *runtime.Runtime, p *refusals) {
		p.completeWith(once(opIs(poller.OpAccept), aborted))
		s := serveEcho(t, rt, newEcho(), Config{})
		echoOnce(t, s)
		if p.completed.Load() != 1 {
			t.Fatalf("%d accepts ended by the test, want 1", p.completed.Load())
		}
	})
	t.Run("refused", func(t *testing.T) {
		forEachRefusing(t, 1, func(t *testing.T, rt *runtime.Runtime, p *refusals) {
			var n atomic.Int32
			p.refuse(func(op *poller.Op) bool { return op.Code == poller.OpAccept && n.Add(1) > 1 })
			p.completeWith(once(opIs(poller.OpAccept), aborted))
			s, err := Serve(ctxT(t), rt, "tcp", "127.0.0.1:0", Config{Handler: newEcho()})
			if err != nil {
				t.Fatal(err)
			}
			// The listening socket closes on the loop, after the re-arm was refused: a
			// dial is refused once it has (a loop task orders the check after it).
			if err := rt.Loops()[0].Call(ctxT(t), func() {}); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(testDeadline)
			for {
				c, err := net.DialTimeout("tcp", s.Addr().String(), testDeadline)
				if err != nil {
					break
				}
				c.Close()
				if time.Now().After(deadline) {
					t.Fatal("the listener still accepts after its re-arm was refused")
				}
				if err := rt.Loops()[0].Call(ctxT(t), func() {}); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.Close(ctxT(t)); err != nil {
				t.Fatalf("Close: %v", err)
			}
		})
	})
}

// TestNetConnAcceptAborted: the accept behind Listener.Accept ends with ECONNABORTED;
// Accept tries again, as Go's net does, and returns the next connection.
func TestNetConnAcceptAborted(t *testing.T) {
	forEachRefusing(t, 1, func(t *testing.T, rt *runtime.Runtime, p *refusals) {
		p.completeWith(once(opIs(poller.OpAccept), -int32(syscall.ECONNABORTED)))
		ln, err := Listen(ctxT(t), rt, "tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		dialed := make(chan net.Conn, 1)
		go func() {
			// After Accept has found nothing and gone to the loop (a readiness
			// driver's accept waits there; the test's completion ends it first).
			for p.completed.Load() == 0 {
				if err := rt.Loops()[0].Call(ctxT(t), func() {}); err != nil {
					break
				}
			}
			c, err := net.DialTimeout("tcp", ln.Addr().String(), testDeadline)
			if err != nil {
				t.Error(err)
			}
			dialed <- c
		}()
		c, err := ln.Accept()
		if err != nil {
			t.Fatalf("Accept after an aborted handshake: %v", err)
		}
		c.Close()
		if d := <-dialed; d != nil {
			d.Close()
		}
		if p.completed.Load() != 1 {
			t.Fatalf("%d accepts ended by the test, want 1", p.completed.Load())
		}
	})
}

// TestConnOpEnds: a connection's receive or send ends with a result that a closing
// runtime or a broken kernel gives (ECANCELED unasked, a send of 0 bytes with bytes
// left). The connection fails with the error Go's net would report for it, and
// closes; nothing else is affected.
func TestConnOpEnds(t *testing.T) {
	for _, tc := range []struct {
		name string
		code poller.Opcode
		res  int32
		want error
	}{
		{"recv-cancelled", poller.OpRecv, -int32(syscall.ECANCELED), net.ErrClosed},
		{"send-cancelled", poller.OpSend, -int32(syscall.ECANCELED), net.ErrClosed},
		{"send-zero", poller.OpSend, 0, io.ErrShortWrite},
	} {
		t.Run(tc.name, func(t *testing.T) {
			forEachRefusing(t, 1, func(t *testing.T, rt *runtime.Runtime, p *refusals) {
				h := newEcho()
				s := serveEcho(t, rt, h, Config{})
				p.completeWith(once(opIs(tc.code), tc.res))
				c := dialStd(t, s)
				defer c.Close()
				if _, err := c.Write([]byte("x")); err != nil {
					t.Fatal(err)
				}
				if err := recvErr(t, h.closed); !errors.Is(err, tc.want) {
					t.Fatalf("OnClose: %v, want %v", err, tc.want)
				}
				if b, err := io.ReadAll(c); len(b) != 0 || err != nil && !errors.Is(err, errConnReset) {
					t.Fatalf("peer read %q, %v; want nothing, then EOF or a reset", b, err)
				}
				if p.completed.Load() != 1 {
					t.Fatalf("%d ops ended by the test, want 1", p.completed.Load())
				}
				echoOnce(t, s)
			})
		})
	}
}

// TestAdapterCloseRefused: the closes behind a net.Conn's, a Listener's and a
// PacketConn's Close are refused by the live driver (several times, or the first time
// only), or cancelled. Close returns nil and releases the descriptor all the same, as
// Go's net does (refusingRuntime's cleanup counts the descriptors), and each close
// goes through the driver in the end, never behind its back.
func TestAdapterCloseRefused(t *testing.T) {
	for _, mode := range []string{"repeatedly", "once", "cancelled"} {
		t.Run(mode, func(t *testing.T) {
			forEachRefusing(t, 1, func(t *testing.T, rt *runtime.Runtime, p *refusals) {
				ln, err := Listen(ctxT(t), rt, "tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				pc, err := ListenPacket(ctxT(t), rt, "udp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				go func() {
					if c, err := net.DialTimeout("tcp", ln.Addr().String(), testDeadline); err == nil {
						c.Close()
					}
				}()
				c, err := ln.Accept()
				if err != nil {
					t.Fatal(err)
				}
				var n atomic.Int32
				switch mode {
				case "repeatedly":
					p.refuse(firstN(poller.OpClose, 7))
				case "once":
					p.refuse(func(op *poller.Op) bool { return op.Code == poller.OpClose && n.Add(1) == 1 })
				case "cancelled":
					p.completeWith(func(op *poller.Op) (int32, bool) {
						return -int32(syscall.ECANCELED), op.Code == poller.OpClose && n.Add(1)%2 == 1
					})
				}
				for _, cl := range []io.Closer{c, ln, pc} {
					if err := cl.Close(); err != nil {
						t.Errorf("%T.Close with its close refused: %v, want nil", cl, err)
					}
				}
				if p.refused.Load()+p.completed.Load() == 0 {
					t.Fatal("no close was refused")
				}
				if n := p.closes.Load(); n < 3 {
					t.Fatalf("%d closes reached the driver, want 3 or more (one per Close)", n)
				}
			})
		})
	}
}

// TestConnCloseCancelled: the close through the driver completes with ECANCELED while
// the driver is live (as a fault injector makes it). The connection submits it again,
// the driver runs it, and OnClose runs once.
func TestConnCloseCancelled(t *testing.T) {
	forEachRefusing(t, 1, func(t *testing.T, rt *runtime.Runtime, p *refusals) {
		h := &closeOnData{echoHandler: *newEcho()}
		s := serveEcho(t, rt, h, Config{})
		p.completeWith(once(opIs(poller.OpClose), -int32(syscall.ECANCELED)))
		c := dialStd(t, s)
		defer c.Close()
		echoThenEOF(t, c, "last")
		if err := recvErr(t, h.closed); err != nil {
			t.Fatalf("OnClose: %v, want nil", err)
		}
		if p.completed.Load() != 1 {
			t.Fatalf("%d closes cancelled by the test, want 1", p.completed.Load())
		}
		if p.closes.Load() != 1 {
			t.Fatalf("%d closes reached the driver, want 1", p.closes.Load())
		}
	})
}

// TestCloseRefusedNumberReused is the hang that closing behind a live driver caused:
// with AcceptHandoff on two loops, loop 0 accepts every connection and hands every
// other one to loop 1. When loop 1's driver refused a connection's close and znet
// called close(2) itself, an epoll or kqueue driver kept the number's registration;
// the next connection handed to loop 1 under that number (accepted by loop 0's
// driver, so loop 1's never saw it reset) then never reported readiness, and its echo
// waited for ever. Now the refused close goes through the driver later, and each of
// the connections echoes.
func TestCloseRefusedNumberReused(t *testing.T) {
	forEachRefusing(t, 2, func(t *testing.T, rt *runtime.Runtime, p *refusals) {
		h := newEcho()
		s := serveEcho(t, rt, h, Config{Accept: AcceptHandoff})
		p.refuse(func(op *poller.Op) bool { return op.Code == poller.OpClose && p.refused.Load() < 3 })
		fds := map[*runtime.Loop]map[int]bool{}
		reused := 0
		for i := 0; i < 8; i++ {
			c := dialStd(t, s)
			sc := <-h.opened
			l, fd := sc.Loop(), sc.fd // read on the test goroutine: fd is set before OnOpen
			if fds[l] == nil {
				fds[l] = map[int]bool{}
			}
			if fds[l][fd] {
				reused++
			}
			fds[l][fd] = true
			msg := fmt.Sprintf("message %d", i)
			if _, err := c.Write([]byte(msg)); err != nil {
				t.Fatal(err)
			}
			got := make([]byte, len(msg))
			if _, err := io.ReadFull(c, got); err != nil || string(got) != msg {
				t.Fatalf("connection %d on loop %d (fd %d): read %q, %v; want the echo", i, l.ID(), fd, got, err)
			}
			c.Close()
			if err := recvErr(t, h.closed); err != io.EOF {
				t.Fatalf("connection %d: OnClose err = %v, want io.EOF", i, err)
			}
		}
		if p.refused.Load() != 3 {
			t.Fatalf("%d closes refused, want 3", p.refused.Load())
		}
		if reused == 0 {
			t.Fatalf("no loop was given a number it had closed before (%v): the check proves nothing", fds)
		}
	})
}

// TestCloseRefusedUntilRuntimeCloses: a live driver refuses every close. Server.Close
// cannot finish (the connection and the listening socket wait to close through the
// driver, retrying) and returns its context's error; the runtime's Close then ends
// both through the loop's stop hook, which closes them itself since the driver closes
// next: OnClose runs once, and no descriptor is left open (refusingRuntime checks).
func TestCloseRefusedUntilRuntimeCloses(t *testing.T) {
	forEachRefusing(t, 1, func(t *testing.T, rt *runtime.Runtime, p *refusals) {
		h := newEcho()
		s := serveEcho(t, rt, h, Config{})
		c := dialStd(t, s)
		<-h.opened
		p.refuse(opIs(poller.OpClose))
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		if err := s.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Server.Close with every close refused: %v, want context.DeadlineExceeded", err)
		}
		if n := p.refused.Load(); n < 2 {
			t.Fatalf("%d closes refused, want the connection's and the listener's, retried", n)
		}
		select {
		case err := <-h.closed:
			t.Fatalf("OnClose (%v) before any close went through", err)
		default:
		}
		if err := rt.Close(ctxT(t)); err != nil {
			t.Fatal(err)
		}
		if err := recvErr(t, h.closed); !errors.Is(err, net.ErrClosed) {
			t.Fatalf("OnClose: %v, want net.ErrClosed (the server closed)", err)
		}
		if b, err := io.ReadAll(c); len(b) != 0 || err != nil && !errors.Is(err, errConnReset) {
			t.Fatalf("peer read %q, %v; want EOF", b, err)
		}
	})
}

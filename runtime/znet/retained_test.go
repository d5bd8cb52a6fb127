package znet

import (
	"errors"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zokio/zokio/internal/testkit"
	"github.com/zokio/zokio/runtime"
)

// forwarder echoes through WriteRetained, mixing it with Write inside one callback: it
// holds every other buffer back and sends it first on the next OnData (or from a timer
// if none comes), and copies every third buffer with Write, so the send queue holds
// copied bytes and spliced buffers in every order. It also releases a stale copy of
// each buffer it hands over, which must do nothing.
type forwarder struct {
	echoHandler
	n        int
	spliced  atomic.Int64 // WriteRetained calls that queued the buffer itself
	sendmsgs atomic.Int64 // multi-piece sends, counted when their connections close
}

type held struct {
	r     Retained
	timer *runtime.Timer
}

func (h *forwarder) OnData(c *Conn, b []byte) {
	k, _ := c.Context().(*held)
	if k == nil {
		k = &held{}
		k.timer = c.Loop().NewTimer(func() { h.flushHeld(c, k) })
		c.SetContext(k)
	}
	h.flushHeld(c, k)
	h.n++
	switch h.n % 3 {
	case 0:
		if _, err := c.Write(b); err != nil {
			c.Close()
		}
	case 1:
		k.r = c.Retain()
		k.timer.Reset(time.Millisecond)
	case 2:
		r := c.Retain()
		h.forward(c, &r)
	}
}

func (h *forwarder) OnClose(c *Conn, err error) {
	h.sendmsgs.Add(int64(c.pieced))
	h.echoHandler.OnClose(c, err)
}

func (h *forwarder) flushHeld(c *Conn, k *held) {
	if k.r.Bytes() != nil {
		h.forward(c, &k.r)
	}
}

func (h *forwarder) forward(c *Conn, r *Retained) {
	stale := *r
	if _, err := c.WriteRetained(r); err != nil {
		r.Release()
		c.Close()
		return
	}
	if c.rs != nil && len(c.rs.pend) > 0 && c.rs.pend[len(c.rs.pend)-1].r.id == stale.id {
		h.spliced.Add(1)
	}
	stale.Release() // the connection owns the buffer now: this must do nothing
}

// TestWriteRetainedOracle streams checksummed messages of up to 20 KB through the
// forwarder on both drivers: spliced and copied pieces leave in order, uncorrupted,
// with small buffer groups recycling every buffer quickly.
func TestWriteRetainedOracle(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		h := &forwarder{echoHandler: *newEcho()}
		s := serveEcho(t, rt, h, Config{RecvBuffers: 16, RecvBufferSize: 4096})
		streamThroughSized(t, s, 8, 150, 20000)
		for range 8 {
			recvErr(t, h.closed) // the counts are added when the connections close
		}
		if h.spliced.Load() == 0 || h.sendmsgs.Load() == 0 {
			t.Errorf("spliced %d buffers, saw %d multi-piece sends; the test did not exercise the splicing path",
				h.spliced.Load(), h.sendmsgs.Load())
		}
		t.Logf("spliced %d buffers, %d multi-piece sends", h.spliced.Load(), h.sendmsgs.Load())
	})
}

// checker runs the next queued check on the loop in OnData and reports its result.
type checker struct {
	echoHandler
	checks chan func(c *Conn) error
	res    chan error
}

func (h *checker) OnData(c *Conn, b []byte) {
	select {
	case check := <-h.checks:
		h.res <- check(c)
	default:
	}
}

// TestWriteRetainedErrors: a Retained that holds no buffer is refused with
// ErrNotRetained; on a closed connection the error is net.ErrClosed and the buffer is
// still the caller's (its Release hands it back); below the splice size, and for a
// buffer of another group, WriteRetained copies and releases at once.
func TestWriteRetainedErrors(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		h := &checker{echoHandler: *newEcho(), checks: make(chan func(*Conn) error, 1), res: make(chan error, 1)}
		h.checks <- func(c *Conn) error {
			var zero Retained
			if _, err := c.WriteRetained(&zero); !errors.Is(err, ErrNotRetained) {
				return errors.New("zero Retained: " + errString(err))
			}
			r := c.Retain() // a small buffer: copied
			if n, err := c.WriteRetained(&r); err != nil || n != 5 || c.g.retained != 0 || c.rs != nil {
				return errors.New("small buffer was not copied and released")
			}
			if _, err := c.WriteRetained(&r); !errors.Is(err, ErrNotRetained) {
				return errors.New("written twice: " + errString(err))
			}
			return nil
		}
		s := serveEcho(t, rt, h, Config{})
		p := dialStd(t, s)
		defer p.Close()
		p.Write([]byte("hello"))
		if err := <-h.res; err != nil {
			t.Fatal(err)
		}
		got := make([]byte, 5)
		if _, err := io.ReadFull(p, got); err != nil || string(got) != "hello" {
			t.Fatalf("read %q, %v", got, err)
		}

		// Closed: refused, the caller keeps the buffer.
		h.checks <- func(c *Conn) error {
			r := c.Retain()
			c.Abort()
			if _, err := c.WriteRetained(&r); !errors.Is(err, net.ErrClosed) {
				return errors.New("closed: " + errString(err))
			}
			if c.g.retained != 1 {
				return errors.New("refused buffer not still retained")
			}
			r.Release()
			if c.g.retained != 0 {
				return errors.New("Release after a refusal did not hand the buffer back")
			}
			return nil
		}
		p2 := dialStd(t, s)
		defer p2.Close()
		p2.Write(make([]byte, 3000))
		if err := <-h.res; err != nil {
			t.Fatal(err)
		}
	})
}

func errString(err error) string {
	if err == nil {
		return "nil error"
	}
	return err.Error()
}

// stuckForwarder forwards everything and records, when the connection ends, how many
// buffers of its group are still retained.
type stuckForwarder struct {
	echoHandler
	left chan int
}

func (h *stuckForwarder) OnData(c *Conn, b []byte) {
	r := c.Retain()
	if _, err := c.WriteRetained(&r); err != nil {
		r.Release()
	}
}

func (h *stuckForwarder) OnClose(c *Conn, err error) { h.left <- c.g.retained }

// TestWriteRetainedReleasedOnClose: a peer that sends but never reads fills the
// connection's queue with spliced buffers; when the peer resets, every one of them
// goes back to the group.
func TestWriteRetainedReleasedOnClose(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		h := &stuckForwarder{echoHandler: *newEcho(), left: make(chan int, 1)}
		s := serveEcho(t, rt, h, Config{RecvBufferSize: 8192, WriteBufferLimit: 1 << 20})
		p := dialStd(t, s).(*net.TCPConn)
		p.SetReadBuffer(4096)
		chunk := make([]byte, 64<<10)
		p.SetWriteDeadline(time.Now().Add(time.Second))
		for {
			if _, err := p.Write(chunk); err != nil {
				break // the server stopped reading: its output is full
			}
		}
		p.SetLinger(0)
		p.Close()
		select {
		case n := <-h.left:
			if n != 0 {
				t.Errorf("%d buffers still retained after the connection ended", n)
			}
		case <-time.After(testDeadline):
			t.Fatalf("no OnClose\n%s", hung())
		}
	})
}

// TestWriteRetainedZeroAlloc: forwarding 4 KiB messages allocates nothing in steady
// state.
func TestWriteRetainedZeroAlloc(t *testing.T) {
	testkit.SkipUnderFaults(t, "the fault-injecting wrapper allocates per op")
	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		h := &stuckForwarder{echoHandler: *newEcho(), left: make(chan int, 1)}
		s := serveEcho(t, rt, h, Config{})
		c := dialStd(t, s)
		defer c.Close()
		checkNoAllocRoundTrip(t, c, 4096)
	})
}

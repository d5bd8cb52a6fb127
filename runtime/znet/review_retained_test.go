package znet

import (
	"bytes"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zokio/zokio/runtime"
)

// crossForwarder forwards what its first connection receives to its second, which
// lives on another loop: each received buffer is retained on the first loop and handed
// to the second connection's WriteRetained on the second loop, which the documentation
// says copies it and gives it back.
type crossForwarder struct {
	echoHandler
	a, b atomic.Pointer[Conn]
}

func (h *crossForwarder) OnOpen(c *Conn) {
	if !h.a.CompareAndSwap(nil, c) {
		h.b.Store(c)
	}
	h.echoHandler.OnOpen(c)
}

func (h *crossForwarder) OnData(c *Conn, b []byte) {
	if c != h.a.Load() {
		return
	}
	dst := h.b.Load()
	r := c.Retain()
	if err := dst.Loop().Post(func() {
		if _, err := dst.WriteRetained(&r); err != nil {
			dst.Close()
		}
	}); err != nil {
		r.Release()
	}
}

// TestWriteRetainedOtherLoop forwards a stream from a connection on one loop to a
// connection on another through WriteRetained: the bytes arrive whole and in order,
// and the receiving loop's buffers are given back on their own loop (the race
// detector sees any release made from the other loop).
func TestWriteRetainedOtherLoop(t *testing.T) {
	forEachDriver(t, 2, func(t *testing.T, rt *runtime.Runtime) {
		h := &crossForwarder{echoHandler: *newEcho()}
		// The limit holds the whole stream: the receive group may grow while buffers are
		// retained, so reads can run ahead of the forwarding; backpressure is not tested here.
		s := serveEcho(t, rt, h, Config{Accept: AcceptHandoff, RecvBuffers: 16, RecvBufferSize: 4096, WriteBufferLimit: 8 << 20})
		src := dialStd(t, s)
		defer src.Close()
		ca := <-h.opened
		dst := dialStd(t, s)
		defer dst.Close()
		var cb *Conn
		select {
		case cb = <-h.opened:
		case <-time.After(testDeadline):
			t.Fatalf("second connection not opened\n%s", hung())
		}
		if ca.Loop() == cb.Loop() {
			t.Fatal("both connections on one loop")
		}
		msg := make([]byte, 4<<20)
		for i := range msg {
			msg[i] = byte(i * 7 / 3)
		}
		go src.Write(msg)
		got := make([]byte, len(msg))
		if _, err := io.ReadFull(dst, got); err != nil {
			t.Fatalf("read: %v", err)
		}
		if !bytes.Equal(got, msg) {
			t.Fatal("forwarded bytes differ")
		}
	})
}

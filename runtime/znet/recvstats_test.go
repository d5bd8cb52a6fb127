package znet

import (
	"bytes"
	"io"
	"math/rand"
	"sync"
	"testing"

	"github.com/zokio/zokio/runtime"
)

// retainEcho echoes every piece by handing the received buffer itself to the send
// queue (Conn.WriteRetained), so buffers stay out of the group until sent.
type retainEcho struct{ echoHandler }

func (h *retainEcho) OnData(c *Conn, b []byte) {
	r := c.Retain()
	if _, err := c.WriteRetained(&r); err != nil {
		r.Release()
		c.Close()
	}
}

// loopRecvStats reads LoopRecvStats on each of rt's loops and sums them.
func loopRecvStats(t *testing.T, rt *runtime.Runtime) RecvStats {
	t.Helper()
	var sum RecvStats
	for _, l := range rt.Loops() {
		var s RecvStats
		if err := l.Call(ctxT(t), func() { s = LoopRecvStats(l) }); err != nil {
			t.Fatal(err)
		}
		sum.add(s)
	}
	return sum
}

// TestLoopRecvStats streams 256 KiB on each of 6 connections at once through a
// forwarding echo and a group of 4 buffers of 4 KiB, which the sends hold, so
// multishot receives end with ENOBUFS and are re-armed: the counters must add up
// to what was sent (every byte counted once, in pieces no larger than a buffer),
// and count every receive armed, ended, and ended for want of a buffer; and the
// group, run dry that often, must have grown.
func TestLoopRecvStats(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		const conns, size = 6, 256 << 10
		before := loopRecvStats(t, rt)
		s := serveEcho(t, rt, &retainEcho{echoHandler: *newEcho()}, Config{RecvBuffers: 4, RecvBufferSize: 4096})
		var wg sync.WaitGroup
		for i := range conns {
			c := dialStd(t, s)
			msg := make([]byte, size)
			rand.New(rand.NewSource(int64(i))).Read(msg)
			wg.Go(func() {
				defer c.Close()
				go c.Write(msg)
				got := make([]byte, size)
				if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, msg) {
					t.Errorf("conn %d: the echo differs from what was sent (%v)", i, err)
				}
			})
		}
		wg.Wait()
		st := loopRecvStats(t, rt)
		d := RecvStats{Pieces: st.Pieces - before.Pieces, Bytes: st.Bytes - before.Bytes, Arms: st.Arms - before.Arms,
			Ends: st.Ends - before.Ends, NoBufs: st.NoBufs - before.NoBufs, Starved: st.Starved - before.Starved,
			Grows: st.Grows - before.Grows}
		t.Logf("%+v", d)
		if d.Bytes != conns*size || d.Pieces < d.Bytes/4096 {
			t.Errorf("%+v: want %d bytes in at least %d pieces", d, conns*size, conns*size/4096)
		}
		if d.Arms < conns || d.Ends > d.Arms || d.NoBufs > d.Ends || d.Starved > d.NoBufs {
			t.Errorf("%+v: want at least %d arms, and arms ≥ ends ≥ ENOBUFS ends ≥ starved", d, conns)
		}
		if d.NoBufs == 0 {
			t.Errorf("%+v: the 4 buffers never ran out; the test meant them to", d)
		}
		// As many ENOBUFS ends as buffers grow the group: new connections, and
		// connections re-armed after ENOBUFS, receive into one with twice the
		// buffers, which echoes as well.
		var count, first int
		sl := s.loops[0]
		if err := sl.l.Call(ctxT(t), func() { first, count = sl.g.count, sl.g.newest().count }); err != nil {
			t.Fatal(err)
		}
		if d.NoBufs >= 4 && (d.Grows == 0 || count <= first) {
			t.Errorf("%+v: the group of %d buffers ran dry %d times and did not grow (the newest has %d)", d, first, d.NoBufs, count)
		}
		c := dialStd(t, s)
		defer c.Close()
		msg := make([]byte, 64<<10)
		rand.New(rand.NewSource(99)).Read(msg)
		go c.Write(msg)
		got := make([]byte, len(msg))
		if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, msg) {
			t.Errorf("after growing to %d buffers: the echo differs from what was sent (%v)", count, err)
		}
	})
}

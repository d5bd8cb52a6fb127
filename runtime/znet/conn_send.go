package znet

import (
	"io"
	"net"

	"github.com/zokio/zokio/poller"
)

// The connection's sending side. Everything here runs on the connection's loop.
//
// One send is ordering-active at a time (flagSending): it was submitted and its byte
// count has not come back. What handlers write meanwhile accumulates in pend and
// leaves in the next send, so bytes never reorder (docs/RELIABILITY.md trap 9). A copy
// send (OpSend, op send) is done when its count comes back. A zero-copy send
// (OpSendZC, op zsend) reports its count first and a notification last: the count
// ends its ordering role, so the next send need not wait for the peer's ACK, but the
// buffer (zbuf) stays the kernel's until the notification (C2) and is never recycled
// for writing; a second zero-copy send waits for that notification, copy sends go on
// meanwhile.

// flush starts a send of everything written since the last one, unless one is
// ordering-active (its count calls flush again).
func (c *Conn) flush() {
	if c.flags&flagSending != 0 || c.flags&(flagAbort|flagCloseSent|flagDirect) != 0 {
		return
	}
	if c.rs != nil && c.rs.pendN > 0 {
		c.rs.swap()
	} else if len(c.pend) == 0 {
		return
	}
	c.out, c.pend = c.pend, c.out[:0] // out is never zbuf's array here: see sent
	c.outOff = 0
	if c.flags&flagPendArena != 0 { // out is never an arena buffer here: see sent
		c.flags = c.flags&^flagPendArena | flagOutArena
	}
	c.startSend()
}

// startSend sends out[outOff:]: zero-copy when it is large enough, the peer remote
// (see Config.SendZCThreshold) and no zero-copy send awaits its notification.
func (c *Conn) startSend() {
	if c.rs != nil && len(c.rs.out) > 0 {
		c.startSendPieces()
		return
	}
	b := c.out[c.outOff:]
	b = b[:min(len(b), maxRW)] // a short send: sent starts the rest
	op := &c.send
	op.Code = poller.OpSend
	if c.zcOK && len(b) >= c.sh.cfg.SendZCThreshold && !inFlight(c.zsend) {
		if c.zsend == nil {
			c.zsend = &poller.Op{Code: poller.OpSendZC, Fd: c.fd, Arg: poller.MsgNoSignal, Done: c.onZSend}
		}
		op = c.zsend
		op.Flags &^= poller.FlagFixedBuffer
		if c.flags&flagOutArena != 0 {
			if idx, ok := c.l.RegisteredBuffer(b); ok {
				op.Flags |= poller.FlagFixedBuffer
				op.BufIndex = idx
				c.zfixed++
			}
		}
		c.zsends++
	}
	op.Buf = b
	c.flags |= flagSending
	if err := c.l.Submit(op); err != nil {
		op.Buf = nil
		c.flags &^= flagSending
		c.submitFailed("write", err)
	}
}

// onSend handles the copy send's completion.
func (c *Conn) onSend(op *poller.Op) {
	op.Buf, op.Bufs = nil, nil
	c.flags &^= flagSending
	c.sent(op.Res)
}

// onZSend handles the zero-copy send's completions: its byte count, then (when the
// count had ResMore) its notification.
func (c *Conn) onZSend(op *poller.Op) {
	if op.Result&poller.ResNotif != 0 {
		if c.flags&flagZbufArena != 0 {
			c.flags &^= flagZbufArena
			c.sa.put(c.zbuf)
		}
		c.flags &^= flagOutHeld   // if out is still that array, it is ours again
		op.Buf, c.zbuf = nil, nil // the kernel is done with the pages
		if c.state == stClosing {
			c.progressClose()
		}
		return
	}
	if op.More() {
		c.zbuf = c.out // the kernel's until the notification
		c.flags |= flagOutHeld
	} else {
		op.Buf = nil
	}
	c.flags &^= flagSending
	if isErrno(op.Res, eOpNotSupp) && c.state != stClosed {
		c.zcOK = false // the socket takes no zero-copy sends: copy instead
		c.startSend()
		return
	}
	c.sent(op.Res)
}

// outLen is the length of out's stream: its copied bytes and the received buffers
// spliced into them.
func (c *Conn) outLen() int {
	if c.rs != nil {
		return len(c.out) + c.rs.outN
	}
	return len(c.out)
}

// sent takes a send's byte count: re-send the rest of a short send first, else move
// on to what was written meanwhile.
func (c *Conn) sent(res int32) {
	switch {
	case res < 0:
		c.sendFailed(res)
		return
	case res == 0 && c.outOff < c.outLen():
		c.fail(c.opErr("write", io.ErrShortWrite))
		return
	}
	if c.timer != nil {
		c.lastOut = clock()
	}
	c.outOff += int(res)
	if c.outOff < c.outLen() && c.flags&flagAbort == 0 {
		c.startSend() // a short send: its rest goes first
		return
	}
	if c.rs != nil {
		c.rs.releaseOut()
	}
	switch {
	case c.flags&flagOutHeld != 0:
		c.out = nil // a zero-copy send may still hold this array: never write into it
		if c.flags&flagOutArena != 0 {
			c.flags |= flagZbufArena // back to the arena with the notification
		}
		c.flags &^= flagOutHeld | flagOutArena
	case c.flags&flagOutArena != 0:
		c.flags &^= flagOutArena
		c.sa.put(c.out)
		c.out = nil
	default:
		c.out = c.out[:0]
	}
	c.outOff = 0
	c.flush()
	c.drained()
	if c.flags&flagSending == 0 && len(c.pend) == 0 {
		// Nothing more to send: do not pin a burst's memory for the connection's
		// life. While output keeps coming, the two buffers swap without reallocating.
		if cap(c.out) > keepCap {
			c.out = nil
		}
		if cap(c.pend) > keepCap {
			c.pend = nil
		}
	}
}

func (c *Conn) sendFailed(res int32) {
	if c.state == stOpen {
		if isErrno(res, eCanceled) {
			c.fail(c.opErr("write", net.ErrClosed))
		} else {
			c.fail(c.opErr("write", resErr(sysSend, res)))
		}
		return
	}
	c.flags |= flagAbort // closing: what is left cannot be sent
	c.progressClose()
}

// drained runs after a send completed: lift backpressure, and carry out a shutdown or
// close that waited for the output.
func (c *Conn) drained() {
	low := c.sh.cfg.WriteBufferLimit / 4
	switch c.state {
	case stOpen:
		if c.flags&flagPaused != 0 && c.Buffered() <= low {
			c.resumeRecv()
		}
		if c.flags&flagWantWritable != 0 && c.Buffered() <= low && c.sh.hk.writable != nil {
			c.flags &^= flagWantWritable
			c.depth++
			c.sh.hk.writable.OnWritable(c)
			c.depth--
			c.afterCallback()
			return
		}
		c.progressShut()
	case stClosing:
		c.progressClose()
	}
}

// progressShut submits the shutdown CloseWrite asked for, once the output is sent.
func (c *Conn) progressShut() {
	if c.flags&(flagShutWr|flagShutSent) != flagShutWr || c.Buffered() > 0 || c.flags&flagSending != 0 || inFlight(c.ctl) {
		return
	}
	c.flags |= flagShutSent
	ctl := c.ctlOp()
	ctl.Code, ctl.Arg = poller.OpShutdown, poller.ShutWr
	if err := c.l.Submit(ctl); err != nil {
		c.submitFailed("shutdown", err)
	}
}

// flushBeforeWait is the flush that ends a callback. On a readiness driver (epoll),
// whose Submit makes the send system call at once, it waits for the end of the loop's
// turn: every callback of the turn — one per buffer a receive filled, several per
// connection when data streams in — adds to the one send that starts then, instead of
// the first starting a send at once and the rest waiting for its byte count (measured
// against flushing at once, two runs: 0.88–0.92× the CPU per message at 1000 × 64 B,
// within noise at 50 × 4 KiB). On io_uring, whose Submit only queues an SQE, it
// flushes now: the send then leaves in this turn's enter, and deferring it cost 1.15×
// the CPU at 50 × 4 KiB pipelined in one run.
func (c *Conn) flushBeforeWait() {
	if c.flags&flagDirty != 0 {
		return
	}
	ln := c.g.ln
	if !ln.hooked {
		ln.hooked = true
		ln.deferFlush = !c.l.Driver().Info().Features.Has(poller.FeatNativeCompletion)
		if ln.deferFlush {
			c.l.BeforeWait(ln.flushDirty)
		}
	}
	if !ln.deferFlush {
		c.flush()
		return
	}
	c.flags |= flagDirty
	ln.dirty = append(ln.dirty, c)
}

// flushDirty starts the sends of the connections written to this turn. On the loop,
// from its wait hook.
func (ln *loopNet) flushDirty() {
	for len(ln.dirty) > 0 {
		dirty := ln.dirty
		ln.dirty = ln.dirty[len(ln.dirty):] // a flush can close and re-dirty: they queue anew
		for i, c := range dirty {
			dirty[i] = nil
			c.flags &^= flagDirty
			c.flush() // a closing one moves on when this send's count is back (drained)
		}
		if len(ln.dirty) == 0 {
			ln.dirty = dirty[:0] // reuse the array
		}
	}
}

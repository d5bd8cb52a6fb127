package znet

import (
	"errors"

	"github.com/zokio/zokio/poller"
)

// Zero-copy forwarding: WriteRetained queues a received buffer itself for sending.
//
// The send queue is then a stream of copied bytes (out, pend: what Write copied)
// with received buffers spliced in at byte positions (retSeg.at): a send takes the
// pieces from outOff on as one OpSendmsg (or one OpSend when a single piece is
// left), so bytes leave in the order they were written however they were written.
// The buffers in out's stream go back to their receive group when all of out has
// been sent, or when the connection ends.

// retainedCopyBelow is the size under which WriteRetained copies instead: a copy of
// a few hundred bytes costs less than the extra iovec and the sendmsg it makes.
const retainedCopyBelow = 2048

// maxSendPieces bounds the iovecs of one send; what is left goes in the next (the
// kernel's limit is UIO_MAXIOV, 1024).
const maxSendPieces = 64

// ErrNotRetained is returned by WriteRetained for a Retained that holds no buffer:
// the zero value, a failed Retain, or one already released or written.
var ErrNotRetained = errors.New("znet: Retained holds no buffer (zero, released or already written)")

// retSends is a connection's bookkeeping for WriteRetained, made on first use so that
// connections that never forward stay small.
type retSends struct {
	out, pend   []retSeg // the buffers spliced into out's and pend's streams, in order
	outN, pendN int      // their bytes
	iov         [][]byte // the pieces of the send in flight
}

// retSeg is a received buffer spliced into a stream of copied bytes before byte at.
type retSeg struct {
	at int
	r  Retained
}

// WriteRetained queues r's bytes for sending without copying them — a proxy forwards
// what one connection received to another this way. On success the connection owns
// the buffer: it goes back to its receive group once the kernel has taken its bytes
// or the connection ends, r is emptied, and no copy of r may release it any more
// (their Release does nothing). On error r is untouched and still the caller's.
//
// Bytes keep their order with Write's: what was written before leaves before, what
// is written after leaves after. Backpressure is Write's: the bytes count toward
// WriteBufferLimit, and ErrWriteBufferFull refuses them whole. WriteRetained copies
// (and releases r at once) where splicing would not pay or is not safe: below 2 KiB;
// when r comes from another loop's receive group (the buffer then goes back on that
// loop, through a task posted to it; whether r is still current can only be checked
// there, so a Retained already released elsewhere is the caller's bug); or when more
// than half of r's group is retained already, so that forwarding cannot starve the
// loop's receives.
func (c *Conn) WriteRetained(r *Retained) (int, error) {
	g := r.g
	// Another loop's buffer is copied, and given back on its own loop: its group is
	// that loop's alone (nothing of it, g.retained included, may be touched here; its
	// Release checks there that r is current).
	foreign := g != nil && g.ln != c.g.ln
	if g == nil || !foreign && !g.holds(r) {
		return 0, c.opErr("write", ErrNotRetained)
	}
	n := len(r.data)
	if err := c.canWrite(n); err != nil {
		return 0, err
	}
	if foreign || n < retainedCopyBelow || 2*g.retained > g.count {
		c.reserve(n)
		c.pend = append(c.pend, r.data...)
		if foreign {
			g.ln.releaseOnLoop(*r)
			*r = Retained{}
		} else {
			r.Release()
		}
		c.wrote()
		return n, nil
	}
	// Take the retention over: a new generation (still odd) makes the caller's
	// copies stale, so none of them can hand the buffer back while it is queued.
	g.slots[r.id].gen += 2
	seg := retSeg{at: len(c.pend), r: *r}
	seg.r.gen = g.slots[r.id].gen
	*r = Retained{}
	if c.rs == nil {
		c.rs = &retSends{}
	}
	c.rs.pend = append(c.rs.pend, seg)
	c.rs.pendN += n
	c.wrote()
	return n, nil
}

// startSendPieces sends out's stream from outOff on when received buffers are
// spliced into it.
func (c *Conn) startSendPieces() {
	rs := c.rs
	bufs, skip, prev := rs.iov[:0], c.outOff, 0
	for i := range rs.out {
		s := &rs.out[i]
		bufs, skip = appendPiece(bufs, c.out[prev:s.at], skip)
		bufs, skip = appendPiece(bufs, s.r.data, skip)
		prev = s.at
	}
	bufs, _ = appendPiece(bufs, c.out[prev:], skip)
	bufs = limitPieces(bufs, maxRW) // the rest goes in the next send, as after a short one
	rs.iov = bufs
	op := &c.send
	if len(bufs) == 1 {
		op.Code, op.Buf = poller.OpSend, bufs[0]
	} else {
		op.Code, op.Bufs = poller.OpSendmsg, bufs
		c.pieced++
	}
	c.flags |= flagSending
	if err := c.l.Submit(op); err != nil {
		op.Buf, op.Bufs = nil, nil
		c.flags &^= flagSending
		c.submitFailed("write", err)
	}
}

// appendPiece appends b less its first skip bytes (if anything is left of it and
// there is room) and returns how much of skip is left for the next piece.
func appendPiece(bufs [][]byte, b []byte, skip int) ([][]byte, int) {
	if skip >= len(b) {
		return bufs, skip - len(b)
	}
	if len(bufs) < maxSendPieces {
		bufs = append(bufs, b[skip:])
	}
	return bufs, 0
}

// limitPieces trims bufs (the connection's own list) to at most n bytes in all.
func limitPieces(bufs [][]byte, n int) [][]byte {
	for i, b := range bufs {
		if len(b) >= n {
			bufs[i] = b[:n]
			return bufs[:i+1]
		}
		n -= len(b)
	}
	return bufs
}

// swap moves pend's buffers to out (flush does the same with the bytes).
func (rs *retSends) swap() {
	rs.out, rs.pend = rs.pend, rs.out[:0]
	rs.outN, rs.pendN = rs.pendN, 0
}

// releaseOut gives out's buffers back once out has been sent (or dropped).
func (rs *retSends) releaseOut() {
	for i := range rs.out {
		rs.out[i].r.Release()
	}
	clear(rs.out)
	rs.out, rs.outN = rs.out[:0], 0
	clear(rs.iov)
	rs.iov = rs.iov[:0]
}

// releaseAll gives every queued buffer back: the connection has ended.
func (rs *retSends) releaseAll() {
	rs.releaseOut()
	rs.swap()
	rs.releaseOut()
}

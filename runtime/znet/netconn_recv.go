package znet

import (
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"

	"github.com/zokio/zokio/poller"
	"github.com/zokio/zokio/runtime"
)

// netReader is a NetConn's receiving side: one multishot receive on the connection's
// loop, from the loop's shared receive group (as the event API's connections use),
// copies what arrives into a read-ahead buffer, and Read serves from that buffer —
// with no system call and no round trip to the loop whenever data is there. A Read
// that finds it empty parks until the loop's next delivery, the peer's EOF, an error,
// or its deadline; one loop tick wakes every reader it delivered to, and the loop
// lets them run before it next blocks (Loop.NoteWake).
//
// Once more than readAhead bytes wait unread the receive is cancelled, so a peer
// cannot make an idle reader buffer without bound; the kernel's socket buffer then
// backs up as it would with Go's net, and the receive is re-armed when Read has taken
// the buffer down to a quarter of that.
//
// Where the multishot receive cannot run (the group ran dry with every buffer
// retained by handlers, or no group could be made), the reader falls back for good:
// Read then receives with single ops through the loop (and direct calls where the
// platform has them), after what the buffer still holds.
//
// Concurrency: the fields under mu are shared by the loop and the reading
// goroutine; op, armed and paused belong to the loop. closing is set by the goroutine
// that closes the connection, before its close op is posted, and read by the loop.
type netReader struct {
	l  *runtime.Loop
	fd int
	g  *recvGroup
	op poller.Op // the multishot receive; in flight while armed

	armed     bool        // on the loop: op is in flight
	paused    bool        // on the loop: stopped for read-ahead; resume re-arms
	cancelled bool        // on the loop: we cancelled op; its ECANCELED is ours
	closing   atomic.Bool // the descriptor is being closed: never re-arm
	handed    bool        // on the loop: handoff ends the receive; never re-arm

	handOnce sync.Once     // handoff's start
	handCh   chan struct{} // closed once the receive has ended after handoff

	mu       sync.Mutex
	buf      []byte        // received, unread: buf[off:]
	off      int           //
	err      error         // what ends the stream (io.EOF or the receive's error), after buf
	fallback bool          // the multishot receive is off for good
	waiting  bool          // a Read waits for the loop's signal on ch
	stalled  bool          // the loop paused the receive; Read asks for a resume
	ch       chan struct{} // the loop's signal to a waiting Read; capacity 1

	armFn, resumeFn func() // method values made once
}

// readAhead is the most a NetConn buffers unread before it stops receiving.
const readAhead = 256 << 10

// readKeepCap is the largest read-ahead buffer a drained connection keeps. A
// buffer that had to grow past it (the reader fell behind by more than that) is
// let go once Read empties it. It is readAhead, the most the reader lets wait: a
// smaller one made a pipelining peer's connection (50 × 4 KiB, 16 in flight, on
// epoll) drop and regrow its buffer at nearly every drain, 0.19 allocations and
// 1.4× the CPU per message (bench/README, 2026-12-07).
const readKeepCap = readAhead

// newNetReader returns c's reader and posts the task that arms its receive; if the
// post fails (the runtime is closing), the reader starts in fallback.
func newNetReader(l *runtime.Loop, fd int) *netReader {
	r := &netReader{l: l, fd: fd, ch: make(chan struct{}, 1)}
	r.armFn, r.resumeFn = r.start, r.resume
	if !directIO {
		r.fallback = true // no direct calls to fall back to: the loop's ops serve
		return r
	}
	if err := l.Post(r.armFn); err != nil {
		r.fallback = true
	}
	return r
}

// start runs on the loop: find the loop's receive group, then arm.
func (r *netReader) start() {
	var cfg Config
	count, size := cfg.recvGroupSize(r.l.Driver().Info().Features)
	g, err := netOf(r.l).group(r.l, count, size)
	if err != nil {
		r.stop(nil)
		return
	}
	r.g = g
	r.op = poller.Op{Code: poller.OpRecv, Flags: poller.FlagMultishot | poller.FlagBufferSelect,
		Group: g.id, Fd: r.fd, Done: r.onRecv}
	r.arm()
}

// arm submits the receive unless it is running, paused or the connection is closing.
// On the loop.
func (r *netReader) arm() {
	if r.armed || r.paused || r.handed || r.closing.Load() {
		return
	}
	if err := r.l.Submit(&r.op); err != nil {
		r.stop(nil) // the driver is closing: the loop's ops report that
		return
	}
	r.armed = true
}

// onRecv handles every completion of the receive. On the loop.
func (r *netReader) onRecv(op *poller.Op) {
	if op.Result&poller.ResBuffer != 0 {
		r.deliver(op.BufID, op.BufOff, op.Res)
	}
	if op.More() {
		return
	}
	r.armed = false
	ours := r.cancelled
	r.cancelled = false
	res := op.Res
	if r.handed {
		r.handedEnd(res)
		return
	}
	switch {
	case r.closing.Load():
	case res == 0:
		r.stop(io.EOF)
	case res > 0:
		r.arm()
	case isErrno(res, eNoBufs) && r.g.hasFree():
		r.arm()
	case isErrno(res, eNoBufs):
		r.stop(nil) // handlers retain every buffer: single receives serve us
	case isErrno(res, eCanceled) && ours:
		r.arm() // a read-ahead pause's cancel: arm does nothing while still paused
	case isErrno(res, eCanceled):
		r.stop(nil) // the runtime is closing: the loop's ops report that
	default:
		r.stop(resErr("read", res))
	}
}

// deliver copies one received piece into the buffer, gives the piece back to the
// group and signals a waiting Read. On the loop.
func (r *netReader) deliver(id uint16, off uint32, n int32) {
	if n <= 0 {
		r.g.release(id)
		return
	}
	end := int(off) + int(n)
	r.mu.Lock()
	if r.off > 0 && len(r.buf)+int(n) > cap(r.buf) {
		// Move the unread bytes down rather than grow: the buffer's size then
		// follows what waits unread, not what arrived since it last drained.
		r.buf = r.buf[:copy(r.buf, r.buf[r.off:])]
		r.off = 0
	}
	r.buf = append(r.buf, r.g.g.Bytes(id)[off:end]...)
	over := len(r.buf)-r.off > readAhead
	if over {
		r.stalled = true
	}
	r.signal()
	r.mu.Unlock()
	r.g.release(id)
	if over && !r.paused {
		r.paused = true
		if r.armed && !r.cancelled {
			r.cancelled = true
			_ = r.l.Cancel(&r.op)
		}
	}
}

// stop ends the multishot receive for good: with err (EOF or the receive's error)
// reported after the buffer, or with nil to hand Read to the loop's single ops.
// On the loop.
func (r *netReader) stop(err error) {
	r.mu.Lock()
	if err != nil {
		r.err = err
	} else {
		r.fallback = true
	}
	r.signal()
	r.mu.Unlock()
}

// handoff ends the multishot receive for good, so that the socket's next bytes go to
// whoever reads the descriptor itself (a raw Read, a splice), and returns once it has
// ended: what it received before stays buffered for Read, which then receives with
// single ops. Called by a goroutine other than the loop; safe to call many times.
func (r *netReader) handoff() {
	r.handOnce.Do(func() {
		r.handCh = make(chan struct{})
		if err := r.l.Post(r.handStart); err != nil {
			r.stop(nil) // the runtime is closing: no receive runs any more
			close(r.handCh)
		}
	})
	<-r.handCh
}

// handStart runs on the loop: cancel the receive, or end at once if none runs.
func (r *netReader) handStart() {
	r.handed = true
	if r.armed {
		r.cancelled = true
		_ = r.l.Cancel(&r.op)
		return
	}
	r.handedEnd(-int32(eCanceled))
}

// handedEnd ends the reader after handoff with the receive's final result. On the
// loop.
func (r *netReader) handedEnd(res int32) {
	switch {
	case res == 0:
		r.stop(io.EOF)
	case res < 0 && !isErrno(res, eCanceled) && !isErrno(res, eNoBufs):
		r.stop(resErr("read", res))
	default:
		r.stop(nil)
	}
	close(r.handCh)
}

// signal wakes a waiting Read. With r.mu held, on the loop.
func (r *netReader) signal() {
	if !r.waiting {
		return
	}
	r.waiting = false
	select {
	case r.ch <- struct{}{}:
	default: // a signal is pending already
	}
	r.l.NoteWake()
}

// resume re-arms a receive paused for read-ahead. On the loop.
func (r *netReader) resume() {
	r.paused = false
	r.arm()
}

// readState is what Read found.
type readState uint8

const (
	readGot      readState = iota // bytes copied
	readEnd                       // the stream ended: r.err
	readFallback                  // the buffer is empty and single ops serve
	readWait                      // nothing yet: wait on r.ch
)

// take copies buffered bytes into p, or says why it cannot. When it returns
// readWait the caller must wait on r.ch (a signal for it is sent once something
// changes).
func (r *netReader) take(p []byte) (int, readState, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.off < len(r.buf) {
		n := copy(p, r.buf[r.off:])
		r.off += n
		if r.off == len(r.buf) {
			r.off = 0
			if cap(r.buf) > readKeepCap {
				r.buf = nil
			} else {
				r.buf = r.buf[:0]
			}
		}
		if r.stalled && len(r.buf)-r.off <= readAhead/4 {
			r.stalled = false
			if r.l.Post(r.resumeFn) != nil {
				r.fallback = true // the runtime is closing; nothing is lost
			}
		}
		return n, readGot, nil
	}
	switch {
	case r.err != nil:
		return 0, readEnd, r.err
	case r.fallback:
		return 0, readFallback, nil
	}
	r.waiting = true
	return 0, readWait, nil
}

// unwait withdraws a Read's wait (its deadline or Close came first).
func (r *netReader) unwait() {
	r.mu.Lock()
	r.waiting = false
	r.mu.Unlock()
}

// isWaiting reports whether a Read waits for the loop (tests).
func (r *netReader) isWaiting() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.waiting
}

// isStalled reports whether the read-ahead is full and the receive stopped (tests).
func (r *netReader) isStalled() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stalled
}

// isFallback reports whether Read receives with single ops (tests).
func (r *netReader) isFallback() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.fallback
}

// read serves one Read from the buffer, waiting for data until d's channel closes.
// It returns readFallback when the caller must receive with a single op instead.
func (r *netReader) read(p []byte, d *deadline) (int, readState, error) {
	done := d.Done()
	for {
		n, st, err := r.take(p)
		if st != readWait {
			return n, st, err
		}
		select {
		case <-r.ch:
		case <-done:
			r.unwait()
			// Bytes that arrived meanwhile stay for the next Read, as with Go's net.
			// The channel closed for good (Close) or at the expiry; a deadline moved
			// back since does not undo that, as opSlot.do reports it too.
			if d.isShut() {
				return 0, readEnd, net.ErrClosed
			}
			return 0, readEnd, os.ErrDeadlineExceeded
		}
	}
}

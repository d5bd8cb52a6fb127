package znet

import (
	"net"
	"time"

	"github.com/zokio/zokio/poller"
	"github.com/zokio/zokio/runtime"
)

// Conn is one connection of the event API. Its handler's callbacks run on the
// connection's loop, and so must every call of its methods: from those callbacks, or
// from other code that loop runs (a timer, a task posted with Loop().Post). From other
// goroutines, post to Loop(), or use the net.Conn adapter (Dial, Listen) instead.
// Conn is not safe for concurrent use; it must not be copied.
//
// # Life
//
// A connection is open from OnOpen until Close, an error, a timeout or the peer's
// EOF; it is closed once OnClose has run. In between, its descriptor has at most one
// multishot receive, one send and one control op (shutdown, close) in flight, all
// referenced from the struct, so the kernel never holds the only reference to them
// (docs/RELIABILITY.md trap 1). Close flushes what was written, then closes through the
// driver, which cancels and drains the connection's ops before the descriptor number
// is released (trap 4).
//
// # Writing
//
// Write and Writev copy into the connection's send buffer; nothing waits. One send is
// in flight per connection: what handlers write while it is in flight accumulates and
// leaves in the next one, and everything a callback writes leaves in one send when the
// callback returns (a short send re-sends its rest first, so bytes never reorder). See
// Write for the backpressure contract.
type Conn struct {
	_     noCopy
	l     *runtime.Loop
	owner connOwner
	sh    *connShared
	g     *recvGroup
	fd    int
	state connState
	flags connFlags
	depth int32 // handler callbacks running on this connection (nested: OnData → Close → ...)

	recv  poller.Op  // multishot recv with FlagBufferSelect; in flight while armed
	send  poller.Op  // copy sends (OpSend) of out[outOff:]; see conn_send.go
	zsend *poller.Op // zero-copy sends (OpSendZC), in flight until the notification; made on first use
	ctl   *poller.Op // shutdown, then close; made on first use (an idle connection does not carry it)

	out    []byte     // the bytes being sent; untouched until their send's count is back
	outOff int        // how much of out the kernel has taken
	pend   []byte     // written since that send started; leaves next
	zbuf   []byte     // the buffer of a zero-copy send: the kernel's until its notification
	zcOK   bool       // SEND_ZC is worth trying for this peer
	closeN uint8      // closes the live driver did not run (loopclose.Backoff)
	zsends uint32     // zero-copy sends made (tests read it)
	zfixed uint32     // of which from a registered send-arena buffer
	pieced uint32     // sends of several pieces (WriteRetained; tests read it)
	rs     *retSends  // received buffers queued by WriteRetained; nil until the first
	sa     *sendArena // the server loop's send arena (Config.SendArena), or nil

	curID    uint16 // the buffer OnData is looking at
	cur      []byte
	timer    *runtime.Timer // idle, read and flush timeouts; nil when none is configured
	lastIn   int64          // clock() of the latest receive
	lastOut  int64          // clock() of the latest send completion
	closeErr error

	userCtx      any
	laddr, raddr net.Addr

	prev, next *Conn // the owner's list
}

// connShared is what all the connections of a server share: read-only once the
// server runs, so one pointer per connection instead of copies keeps idle connections
// small.
type connShared struct {
	cfg  Config
	h    Handler
	hk   hooks
	kind netKind
	ka   net.KeepAliveConfig // keep-alive of accepted TCP connections, if kaOn
	kaOn bool
}

// connOwner is what a connection belongs to: a server loop, which counts it.
type connOwner interface{ detach(c *Conn) }

type connState uint8

const (
	stOpen    connState = iota
	stClosing           // Close or an error: no more OnData; flushing unless aborted
	stClosed            // the descriptor is closed and OnClose has run
)

type connFlags uint32

const (
	flagStarved      connFlags = 1 << iota // on the group's starved list, recv not armed
	flagPaused                             // recv stopped: output above half the limit
	flagRecvCancel                         // we cancelled recv (pause); its ECANCELED is ours
	flagEOF                                // the peer shut down its sending side
	flagShutWr                             // CloseWrite: shut down once the output is sent
	flagShutSent                           // the shutdown op was submitted
	flagWantWritable                       // a Write was refused: OnWritable is owed
	flagRetained                           // OnData's buffer was retained
	flagAbort                              // close without flushing
	flagCloseSent                          // the close op was submitted
	flagDirect                             // the driver is closed: close(2) ourselves
	flagStopping                           // the runtime is closing: its driver closes next
	flagGrace                              // OnData of bytes received before a pause: no hard limit
	flagSending                            // a send was submitted and its byte count is not back
	flagOutHeld                            // out's array is zbuf's: do not recycle it
	flagPendArena                          // pend is a send-arena buffer
	flagOutArena                           // out is a send-arena buffer
	flagZbufArena                          // zbuf is a send-arena buffer
	flagDirty                              // on its loopNet's dirty list: flush before the loop waits
)

// keepCap is the largest send buffer a connection keeps once it has drained: a burst
// does not pin its memory for the connection's life.
const keepCap = 64 << 10

// epoch is the origin of clock(); Go's monotonic clock, read without allocating.
var epoch = time.Now()

func clock() int64 { return int64(time.Since(epoch)) }

// newConn sets up a connection on l for an accepted or connected descriptor. On l.
func newConn(l *runtime.Loop, g *recvGroup, fd int, sh *connShared, owner connOwner) *Conn {
	c := &Conn{l: l, g: g, fd: fd, sh: sh, owner: owner}
	k, cfg := sh.kind, &sh.cfg
	c.recv = poller.Op{Code: poller.OpRecv, Flags: poller.FlagMultishot | poller.FlagBufferSelect,
		Group: g.id, Fd: fd, Done: c.onRecv}
	c.send = poller.Op{Code: poller.OpSend, Fd: fd, Arg: poller.MsgNoSignal, Done: c.onSend}
	if k.family != afUnix && !cfg.Nagle {
		setNoDelay(fd)
	}
	if k.family != afUnix && sh.kaOn {
		_ = applyKeepAlive(fd, sh.ka) // as Go's net: a refusal leaves it usable
	}
	if cfg.SendZCThreshold > 0 && !k.isUnix() && l.Driver().Info().Features.Has(poller.FeatSendZC) {
		var sa poller.Sockaddr
		c.zcOK = zcLocal || cfg.SendZCLocal || (peername(fd, &sa) == nil && !isLoopback(&sa))
	}
	if cfg.IdleTimeout > 0 || cfg.ReadTimeout > 0 {
		c.lastIn = clock()
		c.lastOut = c.lastIn
		c.timer = l.NewTimer(c.onTimer)
		c.timer.Reset(c.nextTimeout(c.lastIn))
	}
	return c
}

// start delivers OnOpen and arms the receive.
func (c *Conn) start() {
	c.depth++
	c.sh.h.OnOpen(c)
	c.depth--
	c.armRecv()
	c.afterCallback()
}

// zcLocal lets tests use SEND_ZC with loopback peers.
var zcLocal = false

// isLoopback reports whether a peer is on this host's loopback, where the kernel
// copies zero-copy sends on delivery anyway.
func isLoopback(sa *poller.Sockaddr) bool {
	ap, ok := inetAddrPort(sa)
	return !ok || ap.Addr().Unmap().IsLoopback()
}

// ctlOp returns the connection's control op, making it on first use.
func (c *Conn) ctlOp() *poller.Op {
	if c.ctl == nil {
		c.ctl = &poller.Op{Fd: c.fd, Done: c.onCtl}
	}
	return c.ctl
}

// inFlight reports whether an op that may not exist yet is in flight.
func inFlight(op *poller.Op) bool { return op != nil && op.InFlight() }

// Loop returns the loop the connection lives on; its callbacks run there.
func (c *Conn) Loop() *runtime.Loop { return c.l }

// Context returns the value stored with SetContext, or nil.
func (c *Conn) Context() any { return c.userCtx }

// SetContext stores a value with the connection, for its handler's per-connection
// state. Storing a pointer allocates nothing.
func (c *Conn) SetContext(v any) { c.userCtx = v }

// Buffered returns the number of written bytes not yet handed to the kernel.
func (c *Conn) Buffered() int {
	n := len(c.pend) + len(c.out) - c.outOff
	if c.rs != nil {
		n += c.rs.outN + c.rs.pendN
	}
	return n
}

// LocalAddr returns the connection's local address (nil once closed, if never asked
// before).
func (c *Conn) LocalAddr() net.Addr {
	if c.laddr == nil && c.state != stClosed {
		var sa poller.Sockaddr
		if sockname(c.fd, &sa) == nil {
			c.laddr = netAddr(c.sh.kind, &sa)
		}
	}
	return c.laddr
}

// RemoteAddr returns the peer's address (nil once closed, if never asked before).
func (c *Conn) RemoteAddr() net.Addr {
	if c.raddr == nil && c.state != stClosed {
		var sa poller.Sockaddr
		if peername(c.fd, &sa) == nil {
			c.raddr = netAddr(c.sh.kind, &sa)
		}
	}
	return c.raddr
}

func (c *Conn) opErr(op string, err error) error {
	return opError(op, c.sh.kind.name, c.LocalAddr(), c.RemoteAddr(), err)
}

// Write copies p into the connection's send buffer and returns len(p), nil; the bytes
// leave when the callback that wrote them returns (at once when Write is called
// outside a callback), in order, behind what was written before.
//
// Backpressure: the unsent output of a connection never exceeds
// Config.WriteBufferLimit. A Write that would take it past the limit copies nothing
// and returns an error wrapping ErrWriteBufferFull; the handler keeps its bytes and
// tries again after OnWritable (see WritableHandler), which is called once the output
// has drained to a quarter of the limit. Independently, once the output exceeds half
// the limit the connection stops reading — the peer's sends back up in the kernel —
// and resumes at a quarter. Bytes the kernel had already received when reading
// stopped are still delivered, and what OnData writes for them is accepted even past
// the limit, so an echo-like handler that writes what it reads never sees the error
// and never loses a byte; that excess is bounded by what the kernel had received for
// the connection (its socket receive buffer). So a peer that does not read cannot
// make the server hold more than the limit plus one socket buffer per connection.
// Write on a closed connection, or after CloseWrite, returns an error wrapping
// net.ErrClosed.
func (c *Conn) Write(p []byte) (int, error) {
	if err := c.canWrite(len(p)); err != nil {
		return 0, err
	}
	c.reserve(len(p))
	c.pend = append(c.pend, p...)
	c.wrote()
	return len(p), nil
}

// Writev is Write for several buffers, as one all-or-nothing write of their
// concatenation.
func (c *Conn) Writev(bufs ...[]byte) (int, error) {
	n := 0
	for _, b := range bufs {
		n += len(b)
	}
	if err := c.canWrite(n); err != nil {
		return 0, err
	}
	c.reserve(n)
	for _, b := range bufs {
		c.pend = append(c.pend, b...)
	}
	c.wrote()
	return n, nil
}

func (c *Conn) canWrite(n int) error {
	if c.state != stOpen || c.flags&flagShutWr != 0 {
		return c.opErr("write", net.ErrClosed)
	}
	if c.Buffered()+n > c.sh.cfg.WriteBufferLimit && c.flags&flagGrace == 0 {
		c.flags |= flagWantWritable
		return c.opErr("write", ErrWriteBufferFull)
	}
	return nil
}

// reserve grows the pending buffer for n more bytes: doubling, as append would, but
// never past WriteBufferLimit (unless one write needs more), so that a connection's
// two send buffers together stay within twice the limit.
func (c *Conn) reserve(n int) {
	need := len(c.pend) + n
	if need <= cap(c.pend) {
		return
	}
	if c.sa != nil && len(c.pend) == 0 && need <= sendArenaBuf {
		if b := c.sa.get(); b != nil {
			c.pend = b[:0]
			c.flags |= flagPendArena
			return
		}
	}
	size := min(max(2*cap(c.pend), need, 64), max(need, c.sh.cfg.WriteBufferLimit))
	b := make([]byte, len(c.pend), size)
	copy(b, c.pend)
	if c.flags&flagPendArena != 0 {
		c.flags &^= flagPendArena // outgrown: the bytes move to the heap
		c.sa.put(c.pend)
	}
	c.pend = b
}

func (c *Conn) wrote() {
	if c.depth == 0 {
		c.flush()
	}
	if c.Buffered() > c.sh.cfg.WriteBufferLimit/2 && c.flags&flagPaused == 0 {
		c.pauseRecv()
	}
}

// Retain keeps the buffer OnData is looking at out of the receive group until the
// returned Retained is released, so its bytes outlive the callback without a copy. It
// may be called only during OnData, once per call. Retained buffers come out of the
// loop's shared receive group: a handler that keeps many for long starves its loop's
// receives (they wait, losing nothing, until buffers come back).
func (c *Conn) Retain() Retained {
	if c.cur == nil || c.flags&flagRetained != 0 {
		return Retained{}
	}
	c.flags |= flagRetained
	s := c.g.retain(c.curID)
	return Retained{g: c.g, id: s, gen: c.g.slots[s].gen, data: c.cur}
}

// Close closes the connection: OnData is no longer called, what was written is sent
// (for up to Config.FlushTimeout), then the descriptor is closed through the driver
// and OnClose runs with a nil error. Closing a closed connection returns an error
// wrapping net.ErrClosed.
func (c *Conn) Close() error {
	if c.state != stOpen {
		return c.opErr("close", net.ErrClosed)
	}
	c.closeWith(nil, false)
	return nil
}

// Abort closes the connection at once, dropping unsent output; the peer sees a reset
// if the kernel still held data for it. OnClose runs with a nil error.
func (c *Conn) Abort() error {
	if c.state == stClosed {
		return c.opErr("close", net.ErrClosed)
	}
	if c.state == stOpen {
		c.closeWith(nil, true)
		return nil
	}
	c.flags |= flagAbort
	c.progressClose()
	return nil
}

// CloseWrite shuts down the sending side once what was written has been sent: the
// peer reads EOF, and the connection keeps receiving. Further writes fail.
func (c *Conn) CloseWrite() error {
	if c.state != stOpen || c.flags&flagShutWr != 0 {
		return c.opErr("close", net.ErrClosed)
	}
	c.flags |= flagShutWr
	if c.depth == 0 {
		c.flush()
		c.progressShut()
	}
	return nil
}

package znet

import (
	"errors"
	"io"
	"math"
	"net"
	"os"
	goruntime "runtime"
	"sync"
	"time"
	"weak"

	"github.com/zokio/zokio/internal/loopclose"
	"github.com/zokio/zokio/internal/slots"
	"github.com/zokio/zokio/poller"
	"github.com/zokio/zokio/runtime"
)

// The connection's completions. Everything here runs on the connection's loop.

// armRecv submits the multishot receive unless the connection is not reading.
func (c *Conn) armRecv() {
	if c.state != stOpen || c.recv.InFlight() || c.flags&(flagPaused|flagEOF|flagStarved) != 0 {
		return
	}
	c.g.stats.Arms++
	if err := c.l.Submit(&c.recv); err != nil {
		c.submitFailed("read", err)
	}
}

// pauseRecv stops reading while the output is above half the limit (backpressure).
// Bytes the kernel already received keep arriving until the cancellation lands; none
// is lost, the next receive starts where the kernel stopped.
func (c *Conn) pauseRecv() {
	c.flags |= flagPaused
	if c.recv.InFlight() && c.flags&flagRecvCancel == 0 {
		c.flags |= flagRecvCancel
		_ = c.l.Cancel(&c.recv)
	}
}

func (c *Conn) resumeRecv() {
	c.flags &^= flagPaused
	c.armRecv()
}

// onRecv handles every completion of the multishot receive.
func (c *Conn) onRecv(op *poller.Op) {
	if op.Result&poller.ResBuffer != 0 {
		c.deliver(op.BufID, op.BufOff, op.Res)
	}
	if !op.More() {
		c.recvEnded(op.Res)
	}
}

// deliver hands one received piece (n bytes at off in buffer id) to OnData and gives
// it back to the group, unless the handler retained it. A connection that is closing
// drops what arrives.
func (c *Conn) deliver(id uint16, off uint32, n int32) {
	g := c.g
	g.stats.Pieces++
	if n > 0 {
		g.stats.Bytes += uint64(n)
	}
	if n <= 0 || c.state != stOpen {
		g.release(id)
		return
	}
	if c.timer != nil {
		c.lastIn = clock()
	}
	end := int(off) + int(n)
	c.cur, c.curID = g.g.Bytes(id)[off:end:end], id
	if c.flags&flagPaused != 0 {
		c.flags |= flagGrace // received before the pause took effect: see Write
	}
	c.depth++
	c.sh.h.OnData(c, c.cur)
	c.depth--
	c.flags &^= flagGrace
	c.cur = nil
	if c.flags&flagRetained != 0 {
		c.flags &^= flagRetained
	} else {
		g.release(id)
	}
	c.afterCallback()
}

// recvEnded handles the receive's final completion: re-arm it, or end the stream.
// The kernel ends a multishot receive on errors, on ENOBUFS (the group ran dry) and on
// CQ overflow (docs/RELIABILITY.md traps 5 and 6); none of these loses a byte, since bytes
// not received stay in the socket for the next receive.
func (c *Conn) recvEnded(res int32) {
	cancelled := c.flags&flagRecvCancel != 0
	c.flags &^= flagRecvCancel
	c.g.stats.Ends++
	switch {
	case c.state != stOpen:
		c.progressClose()
	case res == 0:
		c.onEOF()
	case res > 0:
		c.armRecv()
	case isErrno(res, eNoBufs):
		if g := c.g.ranDry(c.l); g != c.g {
			c.g = g // re-armed on the group this one grew into
			c.recv.Group = g.id
		}
		if c.g.hasFree() {
			c.armRecv()
		} else {
			c.g.stats.Starved++
			c.g.starve(c)
		}
	case isErrno(res, eCanceled) && cancelled:
		c.armRecv() // a pause's cancel; armRecv does nothing while still paused
	case isErrno(res, eCanceled):
		c.fail(c.opErr("read", net.ErrClosed)) // the runtime is closing
	default:
		c.fail(c.opErr("read", resErr(sysRecv, res)))
	}
}

func (c *Conn) onEOF() {
	c.flags |= flagEOF
	if c.sh.hk.eof == nil {
		c.closeWith(io.EOF, false)
		return
	}
	c.depth++
	c.sh.hk.eof.OnEOF(c)
	c.depth--
	c.afterCallback()
}

// afterCallback runs when a handler callback returns: send what it wrote, and carry
// out a shutdown or close it asked for.
func (c *Conn) afterCallback() {
	if c.depth != 0 {
		return
	}
	c.flushBeforeWait()
	switch c.state {
	case stOpen:
		c.progressShut()
	case stClosing:
		c.progressClose()
	}
}

// fail ends the connection with err, dropping unsent output.
func (c *Conn) fail(err error) { c.closeWith(err, true) }

// submitFailed handles a driver that refused an op (op names it in the error). A
// closed driver (poller.ErrClosed: the runtime is closing) runs nothing more, so the
// connection ends closing its descriptor itself once its ops are done. A live driver
// that refused one op (out of memory, say) still runs the others: the connection fails
// with that error, dropping its output, and closes through the driver, which cancels
// its receive.
func (c *Conn) submitFailed(op string, err error) {
	if !errors.Is(err, poller.ErrClosed) {
		if c.state == stOpen {
			c.closeWith(c.opErr(op, err), true)
			return
		}
		c.flags |= flagAbort
		c.progressClose()
		return
	}
	c.flags |= flagDirect
	if c.state == stOpen {
		c.closeWith(c.opErr(op, net.ErrClosed), true)
		return
	}
	c.progressClose()
}

// closeWith starts closing: no more OnData; unless abort, the output is flushed first
// (bounded by FlushTimeout).
func (c *Conn) closeWith(err error, abort bool) {
	if c.state != stOpen {
		return
	}
	c.state = stClosing
	c.closeErr = err
	c.g.forget(c)
	if abort || c.sh.cfg.FlushTimeout < 0 {
		c.flags |= flagAbort
	}
	if c.timer != nil {
		c.timer.Stop()
	}
	if c.flags&flagAbort == 0 && c.Buffered() > 0 {
		if c.timer == nil {
			c.timer = c.l.NewTimer(c.onTimer)
		}
		c.timer.Reset(c.sh.cfg.FlushTimeout)
	}
	if c.depth == 0 {
		c.progressClose()
	}
}

// progressClose moves a closing connection on: flush, wait for the output and any
// shutdown in flight, then close through the driver, which cancels and drains the
// receive and send before the number is released. With the driver gone it waits for
// those ops itself and calls close(2).
func (c *Conn) progressClose() {
	if c.state != stClosing || c.flags&flagCloseSent != 0 {
		return
	}
	if c.flags&(flagAbort|flagDirect) == 0 {
		c.flush()
		if c.Buffered() > 0 {
			return // onSend calls again
		}
	}
	// With the driver gone (flagDirect) nothing more can be sent: what is left is
	// dropped, as by Abort, instead of waiting for a send that cannot start (or for
	// the flush timer, which a stopping loop no longer fires).
	if inFlight(c.ctl) {
		return // the shutdown; onCtl calls again
	}
	if c.flags&flagDirect != 0 {
		if c.recv.InFlight() || c.send.InFlight() || inFlight(c.zsend) {
			return
		}
		c.flags |= flagCloseSent
		_ = closeFd(c.fd)
		c.finish()
		return
	}
	c.flags |= flagCloseSent
	ctl := c.ctlOp()
	ctl.Code = poller.OpClose
	if err := c.l.Submit(ctl); err != nil {
		c.flags &^= flagCloseSent
		c.closeNotRun(err)
	}
}

// closeNotRun handles a close the driver did not run: Submit refused it (err), or it
// completed with ECANCELED. A closed driver runs nothing more: the connection waits for
// its receive and sends to end and calls close(2) itself (progressClose's direct
// path). A live driver keeps per-descriptor state (epoll's and kqueue's registration)
// that a close(2) behind its back would leave to the next descriptor given the same
// number — one accepted on another loop and handed here would never see readiness — so
// the close goes through it again after a backoff (loopclose.Backoff); meanwhile the
// receive and sends are cancelled. Once the runtime is stopping its driver closes next,
// and then the connection closes the descriptor itself at once.
func (c *Conn) closeNotRun(err error) {
	if errors.Is(err, poller.ErrClosed) || c.flags&flagStopping != 0 {
		c.flags |= flagDirect
		c.cancelInFlight() // a closed driver ignores it; a stopping one ends them now
		c.progressClose()
		return
	}
	c.cancelInFlight()
	if c.timer == nil {
		c.timer = c.l.NewTimer(c.onTimer) // onTimer: progressClose, which submits again
	}
	c.timer.Reset(loopclose.Backoff(int(c.closeN)))
	if c.closeN < math.MaxUint8 {
		c.closeN++
	}
}

// cancelInFlight cancels the connection's receive and sends still in flight; each
// still completes once.
func (c *Conn) cancelInFlight() {
	for _, op := range []*poller.Op{&c.recv, &c.send, c.zsend} {
		if inFlight(op) {
			_ = c.l.Cancel(op)
		}
	}
}

// onCtl handles the shutdown's and the close's completion.
func (c *Conn) onCtl(op *poller.Op) {
	switch op.Code {
	case poller.OpShutdown:
		if c.state == stClosing {
			c.progressClose()
		}
	case poller.OpClose:
		if isErrno(op.Res, eCanceled) {
			// The close did not run: a closing runtime cancels every op, possibly
			// before the cancellations of our receive and sends have come back, and a
			// live driver may cancel it too (none does unasked; a fault injector
			// can). Submit it again: a closed driver refuses, and the connection then
			// calls close(2) itself once its ops have ended (closeNotRun).
			c.flags &^= flagCloseSent
			c.progressClose()
			return
		}
		c.finish()
	}
}

// finish runs once the descriptor is closed: OnClose, exactly once.
func (c *Conn) finish() {
	c.state = stClosed
	if c.timer != nil {
		c.timer.Stop()
	}
	c.dropArenaBufs()
	c.out, c.pend = nil, nil
	if c.rs != nil {
		c.rs.releaseAll()
		c.rs = nil
	}
	if c.owner != nil {
		c.owner.detach(c)
	}
	c.sh.h.OnClose(c, c.closeErr)
}

// onTimer enforces the idle and read timeouts of an open connection and the flush
// timeout of a closing one. The timer is re-armed lazily: activity only records the
// time, and a firing that finds recent activity arms again for the remainder, so the
// steady state touches no timer.
func (c *Conn) onTimer() {
	switch c.state {
	case stOpen:
		now := c.timedOut()
		if now == 0 {
			return
		}
		c.timer.Reset(c.nextTimeout(now))
	case stClosing:
		c.flags |= flagAbort
		c.progressClose()
	}
}

// timedOut closes the connection if a timeout passed and returns 0, or returns now.
func (c *Conn) timedOut() int64 {
	now := clock()
	cfg := &c.sh.cfg
	last := max(c.lastIn, c.lastOut)
	switch {
	case cfg.ReadTimeout > 0 && now-c.lastIn >= int64(cfg.ReadTimeout):
		c.fail(c.opErr("read", ErrIdleTimeout))
	case cfg.IdleTimeout > 0 && now-last >= int64(cfg.IdleTimeout):
		c.fail(c.opErr("idle", ErrIdleTimeout))
	default:
		return now
	}
	return 0
}

// nextTimeout is how long until the earliest timeout could pass.
func (c *Conn) nextTimeout(now int64) time.Duration {
	cfg := &c.sh.cfg
	d := time.Duration(1<<62 - 1)
	if cfg.ReadTimeout > 0 {
		d = min(d, time.Duration(c.lastIn+int64(cfg.ReadTimeout)-now))
	}
	if cfg.IdleTimeout > 0 {
		d = min(d, time.Duration(max(c.lastIn, c.lastOut)+int64(cfg.IdleTimeout)-now))
	}
	return max(d, time.Duration(1))
}

// errDeadline is the error of a timed-out blocking call, as Go's net package gives it.
var errDeadline error = os.ErrDeadlineExceeded

// loopNet is the package's state on one loop: the provided-buffer groups its
// connections receive into. A group lives in the loop's driver (buffer groups cannot
// be unregistered; the driver frees them when it closes), so every server and
// connection on a loop shares one group per buffer size instead of making its own.
//
// A loopNet is used only by its loop, except that the registry hands it out.
type loopNet struct {
	groups []*recvGroup
	// dirty lists the connections whose callbacks wrote this turn; on a readiness
	// driver (deferFlush) flushDirty starts their sends just before the loop waits
	// (runtime.Loop.BeforeWait), one per connection however many callbacks wrote.
	// hooked: deferFlush is known (and flushDirty registered if it is set).
	dirty      []*Conn
	hooked     bool
	deferFlush bool
	loop       weak.Pointer[runtime.Loop] // its loop, held weakly (see registry); set once
}

// releaseOnLoop gives r's buffer back on r's own loop, for code running on another
// one: the group, its bookkeeping and its driver are that loop's alone. Once that loop
// is gone (or its runtime is closing) the buffer went with it and nothing is left to do.
func (ln *loopNet) releaseOnLoop(r Retained) {
	if l := ln.loop.Value(); l != nil {
		_ = l.Post(r.Release)
	}
}

// registry maps loops to their loopNet. It holds the loops weakly: a loopNet holds no
// pointer to its loop, and a cleanup drops the entry once the loop is unreachable, so a
// process that makes and closes runtimes does not accumulate them.
var registry struct {
	mu sync.Mutex
	m  map[weak.Pointer[runtime.Loop]]*loopNet
}

// netOf returns l's loopNet, creating it on first use. Safe for concurrent use; the
// loopNet's contents are used only on l.
func netOf(l *runtime.Loop) *loopNet {
	key := weak.Make(l)
	registry.mu.Lock()
	defer registry.mu.Unlock()
	if ln := registry.m[key]; ln != nil {
		return ln
	}
	if registry.m == nil {
		registry.m = make(map[weak.Pointer[runtime.Loop]]*loopNet)
	}
	ln := &loopNet{loop: key}
	registry.m[key] = ln
	goruntime.AddCleanup(l, forgetLoop, key)
	return ln
}

func forgetLoop(key weak.Pointer[runtime.Loop]) {
	registry.mu.Lock()
	delete(registry.m, key)
	registry.mu.Unlock()
}

// group returns the loop's receive group of count buffers of size bytes, creating it
// on l's driver on first use. On the loop only.
func (ln *loopNet) group(l *runtime.Loop, count, size int) (*recvGroup, error) {
	for _, g := range ln.groups {
		if g.size == size && g.count == count {
			return g, nil
		}
	}
	bg, err := l.Driver().NewBufferGroup(count, size)
	if err != nil {
		return nil, err
	}
	g := &recvGroup{ln: ln, g: bg, id: bg.ID(), size: size, count: count, bufRet: make([]uint32, count),
		ids: slots.Table{Size: math.MaxInt32}}
	ln.groups = append(ln.groups, g)
	return g, nil
}

// recvGroup is one provided-buffer group and its bookkeeping: how many buffers the
// handlers retain, and the connections whose multishot recv stopped because the group
// ran dry (ENOBUFS), to be re-armed as buffers come back. Used only on its loop.
type recvGroup struct {
	ln       *loopNet // its loop's (not the loop: see registry)
	g        poller.BufferGroup
	id       uint16
	size     int
	count    int
	retained int // buffers with a piece kept past OnData by Conn.Retain
	// A Retained names a slot of its own: a buffer may hold several retained pieces
	// (the driver may fill a buffer a part at a time). slots[i].gen is the generation
	// of slot i's current retention, odd while retained: a Retained carries it, so a
	// stale copy's Release (the piece long back, the slot perhaps reused) does nothing.
	slots   []retSlot
	ids     slots.Table // indexes into slots: ones given back first, then new ones
	bufRet  []uint32    // bufRet[id]: retained pieces of buffer id
	starved []*Conn     // connections waiting for buffers, oldest first
	waking  bool        // wake is running: a re-arm that starves again waits for later
	stats   RecvStats   // its receives' counters (LoopRecvStats)
	// Growth under pressure (ranDry): dry counts the receives that ended with
	// ENOBUFS; next is the larger group this one grew into, which connections move
	// to as they re-arm; noGrow is set once growing is out (the caps, or the driver
	// refused a group).
	dry    int
	next   *recvGroup
	noGrow bool
}

// A group whose receives keep ending with ENOBUFS grows: once as many receives ran
// dry as it has buffers, the loop makes a group of the same buffer size with twice
// the buffers, and connections move to it as they re-arm (buffer groups cannot grow
// in place, and cannot be unregistered: the old one stays with the driver, idle).
// It doubles again under pressure, up to these caps.
const (
	growMaxBuffers = 32768    // a group's buffer IDs are 16-bit; Config rounds to this too
	growMaxBytes   = 64 << 20 // per group: 1000 connections × 16 pipelined 4 KiB messages
)

// newest returns the group g grew into last, or g itself.
func (g *recvGroup) newest() *recvGroup {
	for g.next != nil {
		g = g.next
	}
	return g
}

// ranDry counts a receive that ended with ENOBUFS and returns the group the
// connection should re-arm on: g, or the larger group g grew into (now, or
// before). On l, the group's loop.
func (g *recvGroup) ranDry(l *runtime.Loop) *recvGroup {
	g.stats.NoBufs++
	if g.next != nil {
		return g.newest()
	}
	if g.dry++; g.dry < g.count || g.noGrow {
		return g
	}
	n := 2 * g.count
	if n > growMaxBuffers || n*g.size > growMaxBytes {
		g.noGrow = true
		return g
	}
	ng, err := g.ln.group(l, n, g.size)
	if err != nil {
		g.noGrow = true // the driver's limits (memory, the kernel's): keep serving from g
		return g
	}
	g.next = ng
	g.stats.Grows++
	return ng.newest()
}

// release gives buffer id back to the kernel (or the readiness driver) and re-arms
// starved connections if there are any.
func (g *recvGroup) release(id uint16) {
	g.g.Release(id)
	if len(g.starved) > 0 {
		g.wake()
	}
}

// retSlot is what a Retained names: the buffer its piece lies in, and the generation
// of the slot's current retention.
type retSlot struct {
	buf uint16
	gen uint32
}

// retain records a retained piece of buffer id and returns its slot.
func (g *recvGroup) retain(id uint16) uint32 {
	i, _ := g.ids.Get() // never full: 2³¹ retentions at once would be 2³¹ pieces
	if i == len(g.slots) {
		g.slots = append(g.slots, retSlot{})
	}
	s := uint32(i)
	g.slots[s].buf = id
	g.slots[s].gen++ // odd: retained
	if g.bufRet[id]++; g.bufRet[id] == 1 {
		g.retained++
	}
	return s
}

// holds reports whether r is the current retention of its slot.
func (g *recvGroup) holds(r *Retained) bool {
	return int(r.id) < len(g.slots) && g.slots[r.id].gen == r.gen
}

// unretain ends slot s's retention and gives its piece back.
func (g *recvGroup) unretain(s uint32) {
	sl := &g.slots[s]
	sl.gen++ // even: not retained
	g.ids.Put(int(s))
	id := sl.buf
	if g.bufRet[id] > 0 {
		if g.bufRet[id]--; g.bufRet[id] == 0 && g.retained > 0 {
			g.retained--
		}
	}
	g.release(id)
}

// hasFree reports whether the group may have a buffer for a receive right now: every
// buffer not retained by a handler has been released (completions release theirs
// before the next one is handled), so only retained ones are out for long.
func (g *recvGroup) hasFree() bool { return g.retained < g.count }

// starve queues c to be re-armed when a buffer comes back.
func (g *recvGroup) starve(c *Conn) {
	c.flags |= flagStarved
	g.starved = append(g.starved, c)
}

// wake re-arms starved connections, oldest first, while buffers seem free.
func (g *recvGroup) wake() {
	if g.waking {
		return
	}
	g.waking = true
	n := 0
	for n < len(g.starved) && g.hasFree() {
		c := g.starved[n]
		n++
		c.flags &^= flagStarved
		c.armRecv()
	}
	rest := copy(g.starved, g.starved[n:])
	clear(g.starved[rest:])
	g.starved = g.starved[:rest]
	g.waking = false
}

// forget drops c from the starved list (it is closing).
func (g *recvGroup) forget(c *Conn) {
	if c.flags&flagStarved == 0 {
		return
	}
	c.flags &^= flagStarved
	for i, s := range g.starved {
		if s == c {
			last := len(g.starved) - 1
			copy(g.starved[i:], g.starved[i+1:])
			g.starved[last] = nil
			g.starved = g.starved[:last]
			return
		}
	}
}

// Retained is a received buffer that a handler kept past OnData with Conn.Retain. Its
// bytes stay valid, and the buffer stays out of the loop's receive group, until
// Release. Release runs only on its connection's loop; code on another loop may hand
// the Retained to Conn.WriteRetained, which copies its bytes and gives the buffer back
// on its own loop.
type Retained struct {
	g    *recvGroup
	id   uint32 // its retention slot
	gen  uint32
	data []byte
}

// Bytes returns the retained bytes: the data OnData was given.
func (r *Retained) Bytes() []byte { return r.data }

// Release gives the buffer back to the loop's receive group. It must be called on the
// connection's loop; only the first Release of a Retention counts — later calls, on
// this value or on copies of it, do nothing. After the runtime has closed, the
// buffer's memory is gone and Release does nothing either.
func (r *Retained) Release() {
	g := r.g
	if g == nil {
		return
	}
	current := g.holds(r)
	r.g, r.data = nil, nil
	if current { // else a copy released it already
		g.unretain(r.id)
	}
}

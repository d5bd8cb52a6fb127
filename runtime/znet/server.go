package znet

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zokio/zokio/internal/loopclose"
	"github.com/zokio/zokio/poller"
	"github.com/zokio/zokio/runtime"
)

// Server is a listening address served with the event API: its connections' events go
// to Config.Handler on the loops of its runtime. Serve starts it; Close stops it. A
// Server is safe for concurrent use by multiple goroutines.
type Server struct {
	rt    *runtime.Runtime
	sh    connShared // cfg, handler, hooks and network, shared with the connections
	cfg   *Config    // &sh.cfg
	kind  netKind
	addr  net.Addr
	mode  AcceptMode
	loops []*srvLoop
	path  string // a Unix socket's file, removed at the end

	// closing is set once by Close. live counts what must end before the server is
	// done: listening sockets and open connections. A loop adds to live before it
	// checks closing, and Close sets closing before it reads live (all sequentially
	// consistent), so either Close sees the addition or the loop sees closing; the
	// one who brings live to zero after closing closes done.
	closing  atomic.Bool
	live     atomic.Int64
	doneOnce sync.Once
	done     chan struct{}
}

// srvLoop is the server's part on one loop: the listening socket that loop accepts on
// (if any) and the connections living there. Used only on its loop.
type srvLoop struct {
	s      *Server
	l      *runtime.Loop
	g      *recvGroup
	lfd    int // the listening socket this loop accepts on, or -1
	accept poller.Op
	lclose poller.Op
	// unhook removes onStop from the loop's stop hooks (runtime.Loop.OnStop), through
	// which a closing runtime reaches this loop's connections, even those with
	// nothing in flight and on loops without a listening socket.
	unhook func()
	retry  *runtime.Timer // re-arms accept after EMFILE and the like
	next   int            // handoff: the next loop to give a connection to
	conns  *Conn          // open connections, linked through prev/next
	sa     *sendArena     // Config.SendArena's buffers, or nil
	saErr  error          // why sa is not registered (read after set-up, by SendArenaErr)
	err    error          // set up failed
	stop   bool
	final  bool  // the runtime is closing: its driver closes after the stop hooks
	lcN    uint8 // listener closes the live driver did not run (loopclose.Backoff)
}

// acceptBackoff is how long accept rests after the process ran out of descriptors or
// memory, instead of failing again at once in a loop.
const acceptBackoff = 10 * time.Millisecond

// Serve listens on address (network "tcp", "tcp4", "tcp6" or "unix") and serves every
// connection with cfg.Handler on rt's loops. ctx bounds only the set-up (name
// resolution); the server runs until Close.
func Serve(ctx context.Context, rt *runtime.Runtime, network, address string, cfg Config) (*Server, error) {
	if !supported {
		return nil, unsupportedErr("listen", network)
	}
	if rt == nil {
		return nil, opError("listen", network, nil, nil, errNilRuntime)
	}
	if cfg.Handler == nil {
		return nil, opError("listen", network, nil, nil, errors.New("znet: Config.Handler is nil"))
	}
	if !cfg.Accept.valid() {
		return nil, opError("listen", network, nil, nil, fmt.Errorf("znet: Config.Accept is %d, not an AcceptMode", cfg.Accept))
	}
	cfg.setDefaults()
	k, err := parseNetwork(network, false)
	if err != nil {
		return nil, opError("listen", network, nil, nil, err)
	}
	s := &Server{rt: rt, sh: connShared{cfg: cfg, h: cfg.Handler, hk: hooksOf(cfg.Handler), kind: k},
		kind: k, mode: cfg.Accept, done: make(chan struct{})}
	s.cfg = &s.sh.cfg
	s.sh.ka, s.sh.kaOn = keepAliveFor(cfg.KeepAlive, cfg.KeepAliveConfig)
	if s.mode == AcceptAuto && haveReusePort {
		s.mode = AcceptReusePort
	}
	if k.isUnix() || len(rt.Loops()) == 1 {
		s.mode = AcceptHandoff
	}
	fds, err := s.listen(ctx, address)
	if err != nil {
		return nil, err
	}
	for i, l := range rt.Loops() {
		sl := &srvLoop{s: s, l: l, lfd: -1, next: i}
		if i < len(fds) {
			sl.lfd = fds[i]
			s.live.Add(1)
		}
		s.loops = append(s.loops, sl)
	}
	if err := s.install(); err != nil {
		_ = s.Close(context.Background())
		return nil, opError("listen", network, nil, s.addr, err)
	}
	return s, nil
}

// listen creates the listening sockets: one per loop with SO_REUSEPORT, or one. The
// first binds without SO_REUSEPORT unless Config.ReusePort asks to share the port with
// others, so that an address in use fails with EADDRINUSE; it takes SO_REUSEPORT once
// bound when the other loops' sockets are to join it (see Config.ReusePort).
func (s *Server) listen(ctx context.Context, address string) ([]int, error) {
	sa, v6only, err := resolveListen(ctx, s.kind, address)
	if err != nil {
		return nil, opError("listen", s.kind.name, nil, nil, err)
	}
	n := 1
	if s.mode == AcceptReusePort {
		n = len(s.rt.Loops())
	}
	share := s.cfg.ReusePort && !s.kind.isUnix()
	lc := ListenConfig{Control: s.cfg.Control}
	var fds []int
	for i := 0; i < n; i++ {
		o := listenerOptions{v6only: v6only, reusePort: share || i > 0, control: lc.control(s.kind, &sa)}
		if i == 0 && !share && n > 1 {
			o.reusePortBound = true
		}
		fd, err := bindSocket(sockStream, &sa, o)
		if err != nil {
			for _, fd := range fds {
				_ = closeFd(fd)
			}
			return nil, opError("listen", s.kind.name, nil, netAddr(s.kind, &sa), err)
		}
		if i == 0 {
			// Port 0 picked a port: the other sockets bind that one.
			if err := sockname(fd, &sa); err != nil {
				_ = closeFd(fd)
				return nil, opError("listen", s.kind.name, nil, nil, err)
			}
			s.addr = netAddr(s.kind, &sa)
		}
		fds = append(fds, fd)
	}
	if s.kind.isUnix() && len(address) > 0 && address[0] != '@' {
		s.path = address
	}
	return fds, nil
}

// install sets every loop up, on the loops, in two rounds: every loop's receive group
// first, then the accepts, so that a connection accepted at once and handed to another
// loop finds that loop ready.
func (s *Server) install() error {
	for _, phase := range []func(*srvLoop){(*srvLoop).prepare, (*srvLoop).arm} {
		for _, sl := range s.loops {
			if sl.stop {
				continue
			}
			if err := sl.l.Call(context.Background(), func() { phase(sl) }); err != nil {
				// The loop refused the call (its runtime is closing): nothing of ours
				// runs there, so the listening socket is ours to close.
				sl.err = err
				sl.stop = true
				if sl.lfd >= 0 {
					_ = closeFd(sl.lfd)
					sl.lfd = -1
					s.release()
				}
				if sl.sa != nil {
					sl.sa.stop() // no connection ever held a buffer: unmapped now
				}
			}
		}
	}
	var errs []error
	for _, sl := range s.loops {
		if sl.err != nil {
			errs = append(errs, sl.err)
		}
	}
	return errors.Join(errs...)
}

// Addr returns the address the server listens on (with the port chosen, for port 0).
func (s *Server) Addr() net.Addr { return s.addr }

// Close stops the server: it stops accepting and closes every connection, each
// flushing its output first (bounded by Config.FlushTimeout); their OnClose gets an
// error wrapping net.ErrClosed. Close returns when every listening socket and
// connection is closed. If ctx ends first, the connections still open are aborted
// (their unsent output dropped) and Close returns ctx's error without waiting more.
// Close must not be called on one of the runtime's loops.
func (s *Server) Close(ctx context.Context) error {
	if !s.closing.Swap(true) {
		for _, sl := range s.loops {
			// A loop that refuses the post is stopping: its driver completes our ops,
			// which ends the listener and the connections there as well.
			_ = sl.l.Post(sl.stopAll)
		}
		if s.live.Load() == 0 {
			s.finish()
		}
	}
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
	}
	for _, sl := range s.loops {
		_ = sl.l.Post(sl.abortAll)
	}
	return ctx.Err()
}

// release drops one listener or connection from live; the last one after Close ends
// the server.
func (s *Server) release() {
	if s.live.Add(-1) == 0 && s.closing.Load() {
		s.finish()
	}
}

func (s *Server) finish() {
	s.doneOnce.Do(func() {
		if s.path != "" {
			unlinkPath(s.path)
		}
		close(s.done)
	})
}

// errServerClosed is what connections closed by Server.Close report.
var errServerClosed = net.ErrClosed

// prepare runs on the loop: the receive group.
func (sl *srvLoop) prepare() {
	cfg := sl.s.cfg
	count, size := cfg.recvGroupSize(sl.l.Driver().Info().Features)
	g, err := netOf(sl.l).group(sl.l, count, size)
	if err != nil {
		sl.err = err
		sl.stopAll()
		return
	}
	sl.g = g
	if cfg.SendArena > 0 {
		sa, err := newSendArena(sl.l, cfg.SendArena)
		if err != nil {
			sl.err = err
			sl.stopAll()
			return
		}
		sl.sa, sl.saErr = sa, sa.a.RegisterErr()
	}
}

// arm runs on the loop: the stop hook, and the multishot accept if this loop has a
// listening socket.
func (sl *srvLoop) arm() {
	if sl.stop {
		return
	}
	sl.unhook = sl.l.OnStop(sl.onStop)
	if sl.lfd < 0 {
		return
	}
	sl.accept = poller.Op{Code: poller.OpAccept, Flags: poller.FlagMultishot, Fd: sl.lfd,
		Arg: sockFlags, Done: sl.onAccept}
	if err := sl.l.Submit(&sl.accept); err != nil {
		sl.err = err
		sl.stopAll()
	}
}

// onAccept receives every accepted descriptor. A multishot accept that ends without a
// lasting error (the kernel ends them on CQ overflow; one handshake can fail) is
// re-armed; one that ends for lack of descriptors or memory rests first.
func (sl *srvLoop) onAccept(op *poller.Op) {
	if op.Res >= 0 {
		sl.accepted(int(op.Res))
	}
	if op.More() {
		return
	}
	switch {
	case sl.stop:
		sl.closeListener()
	case op.Res >= 0, isErrno(op.Res, eConnAbort), isErrno(op.Res, eIntr):
		if err := sl.l.Submit(&sl.accept); err != nil {
			sl.stopAll()
		}
	case isErrno(op.Res, eMFile), isErrno(op.Res, eNFile), isErrno(op.Res, eNoBufs), isErrno(op.Res, eNoMem):
		if sl.retry == nil {
			sl.retry = sl.l.NewTimer(sl.rearm)
		}
		sl.retry.Reset(acceptBackoff)
	default: // cancelled by a closing runtime, or a broken listener
		sl.stopAll()
	}
}

func (sl *srvLoop) rearm() {
	if sl.stop {
		sl.closeListener()
		return
	}
	if err := sl.l.Submit(&sl.accept); err != nil {
		sl.stopAll()
	}
}

// accepted places a new connection: here, or (AcceptHandoff) on the next loop in turn.
func (sl *srvLoop) accepted(fd int) {
	s := sl.s
	if s.mode == AcceptHandoff && len(s.loops) > 1 {
		target := s.loops[sl.next%len(s.loops)]
		sl.next++
		if target != sl {
			if err := target.l.Post(func() { target.open(fd) }); err != nil {
				_ = closeFd(fd)
			}
			return
		}
	}
	sl.open(fd)
}

// open starts a connection on this loop.
func (sl *srvLoop) open(fd int) {
	s := sl.s
	s.live.Add(1) // before the closing check: see Server.closing
	if sl.stop || sl.g == nil || s.closing.Load() {
		_ = closeFd(fd)
		s.release()
		return
	}
	c := newConn(sl.l, sl.g.newest(), fd, &s.sh, sl)
	c.sa = sl.sa
	c.next = sl.conns
	if sl.conns != nil {
		sl.conns.prev = c
	}
	sl.conns = c
	c.start()
}

// detach is called by a connection once it is closed.
func (sl *srvLoop) detach(c *Conn) {
	if c.prev != nil {
		c.prev.next = c.next
	} else if sl.conns == c {
		sl.conns = c.next
	}
	if c.next != nil {
		c.next.prev = c.prev
	}
	c.prev, c.next = nil, nil
	sl.s.release()
	sl.unhookIfDone()
}

// stopAll stops accepting on this loop and closes its connections gracefully.
func (sl *srvLoop) stopAll() {
	if !sl.stop {
		sl.stop = true
		if sl.retry != nil {
			sl.retry.Stop()
		}
		if sl.accept.InFlight() {
			_ = sl.l.Cancel(&sl.accept) // its final completion closes the listener
		} else {
			sl.closeListener()
		}
	}
	for _, c := range sl.snapshot() {
		c.closeWith(errServerClosed, false) // does nothing to one already closing
	}
	if sl.sa != nil {
		sl.sa.stop() // closes once the connections have given their buffers back
	}
	sl.unhookIfDone()
}

// unhookIfDone removes the stop hook once this stopped loop holds nothing more. Until
// then it stays: a connection or listening socket whose close the live driver refused
// waits on a retry timer with no op in flight, which a closing runtime would neither
// fire nor cancel, and the hook (onStop) ends it.
func (sl *srvLoop) unhookIfDone() {
	if sl.stop && sl.conns == nil && sl.lfd < 0 && sl.unhook != nil {
		sl.unhook()
		sl.unhook = nil
	}
}

// snapshot lists this loop's connections. Closing one can run handler code (OnClose)
// that closes others and unlinks them, so walks that close go over a copy.
func (sl *srvLoop) snapshot() []*Conn {
	var cs []*Conn
	for c := sl.conns; c != nil; c = c.next {
		cs = append(cs, c)
	}
	return cs
}

// abortAll closes this loop's connections at once (Close's context ended).
func (sl *srvLoop) abortAll() {
	for _, c := range sl.snapshot() {
		_ = c.Abort()
	}
}

// closeListener closes the listening socket through the driver, once no accept is in
// flight on it.
func (sl *srvLoop) closeListener() {
	if sl.lfd < 0 || sl.accept.InFlight() || sl.lclose.InFlight() {
		return
	}
	fd := sl.lfd
	sl.lclose = poller.Op{Code: poller.OpClose, Fd: fd, Done: sl.onListenerClosed}
	err := sl.l.Submit(&sl.lclose)
	switch {
	case err == nil:
	case errors.Is(err, poller.ErrClosed) || sl.final:
		// The driver is closed, or closes next: nothing of ours is in flight on fd.
		_ = closeFd(fd)
		sl.onListenerClosed(nil)
	default:
		// A live driver refused it: submit it again later, never close(2) behind
		// its back (see Conn.closeNotRun). rearm calls closeListener once stopped.
		if sl.retry == nil {
			sl.retry = sl.l.NewTimer(sl.rearm)
		}
		sl.retry.Reset(loopclose.Backoff(int(sl.lcN)))
		if sl.lcN < math.MaxUint8 {
			sl.lcN++
		}
	}
}

func (sl *srvLoop) onListenerClosed(op *poller.Op) {
	if op != nil && isErrno(op.Res, eCanceled) {
		// The close did not run (a closing runtime cancels every op): submit it
		// again; a closed driver refuses, and closeListener closes fd itself.
		sl.closeListener()
		return
	}
	sl.lfd = -1
	sl.s.release()
	sl.unhookIfDone()
}

// onStop is the loop's stop hook: the runtime is closing, and the driver closes once
// the hooks have run. The connections and the listening socket end now, and a close
// the driver refuses from here on is done with close(2) (the driver's per-descriptor
// state goes with it), since no timer fires once the loop stops.
func (sl *srvLoop) onStop() {
	sl.final = true
	for c := sl.conns; c != nil; c = c.next {
		c.flags |= flagStopping
	}
	sl.stopAll()
	sl.closeListener() // one waiting on a retry (does nothing otherwise)
	for _, c := range sl.snapshot() {
		c.progressClose() // one waiting on a retry (does nothing otherwise)
	}
}

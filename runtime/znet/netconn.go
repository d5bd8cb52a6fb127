package znet

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/zokio/zokio/poller"
	"github.com/zokio/zokio/runtime"
)

// NetConn is a stream connection (TCP or Unix) as a net.Conn, for code written
// against the standard library: net/http's Server, crypto/tls and the like run on it
// unchanged. Its blocking calls park the calling goroutine until the op completes on
// the connection's loop (runtime.Loop.Do); they never poll. Read receives straight
// into the caller's buffer; Write sends the caller's buffer until all of it is sent.
// Where the platform allows (Linux), each first tries a non-blocking receive or send
// on the calling goroutine's thread, as Go's net package does, and takes the loop's
// op only when the socket has no data or no room.
//
// NetConn is safe for concurrent use by multiple goroutines, as net.Conn requires:
// reads are serialized with each other, writes with each other, and Close, the
// deadline setters and the address getters may be called at any time. Its methods
// must not be called on one of the runtime's loops (they would block the loop).
type NetConn struct {
	_     noCopy
	l     *runtime.Loop
	fd    int
	kind  netKind
	laddr net.Addr
	raddr net.Addr
	ref   fdRef
	gone  chan struct{} // closed once the descriptor is closed

	rmu sync.Mutex // serializes Read; guards rop
	rd  deadline
	rr  *netReader // the multishot receive Read serves from (netconn_recv.go)
	rop opSlot
	wmu sync.Mutex // serializes Write; guards wop
	wd  deadline
	wop opSlot
}

var _ net.Conn = (*NetConn)(nil)

// newNetConn wraps a connected descriptor whose ops will run on l.
func newNetConn(l *runtime.Loop, fd int, k netKind, raddr net.Addr) *NetConn {
	c := &NetConn{l: l, fd: fd, kind: k, raddr: raddr, gone: make(chan struct{})}
	c.rr = newNetReader(l, fd)
	c.rd.init()
	c.wd.init()
	var sa poller.Sockaddr
	if sockname(fd, &sa) == nil {
		c.laddr = netAddr(k, &sa)
	}
	if c.raddr == nil && peername(fd, &sa) == nil {
		c.raddr = netAddr(k, &sa)
	}
	if !k.isUnix() {
		setNoDelay(fd)
	}
	return c
}

func (c *NetConn) opErr(op string, err error) error {
	return opError(op, c.kind.name, c.laddr, c.raddr, err)
}

// release drops a call's reference; the last one after Close closes the descriptor.
func (c *NetConn) release() {
	if c.ref.decref() {
		_ = c.closeFd()
		close(c.gone)
	}
}

// closeFd closes the descriptor through the loop; the reader's receive, which the
// driver cancels first, is not re-armed.
func (c *NetConn) closeFd() error {
	c.rr.closing.Store(true)
	return closeThrough(c.l, c.fd)
}

// Read reads into p. It returns io.EOF once the peer has shut down its side, a
// *net.OpError wrapping os.ErrDeadlineExceeded after the read deadline, or one
// wrapping net.ErrClosed after Close. Bytes that arrived are never lost to a deadline
// or a Close that races with them: a receive that completed is reported.
func (c *NetConn) Read(p []byte) (int, error) {
	if !c.ref.incref() {
		return 0, c.opErr("read", net.ErrClosed)
	}
	defer c.release()
	if len(p) == 0 {
		return 0, nil
	}
	c.rmu.Lock()
	defer c.rmu.Unlock()
	if err := checkDeadline(&c.rd); err != nil {
		return 0, c.opErr("read", err)
	}
	if len(p) > maxRW {
		p = p[:maxRW] // a short read, as Go's net makes of a huge buffer
	}
	switch n, st, err := c.rr.read(p, &c.rd); {
	case st == readGot:
		return n, nil
	case st == readEnd && err == io.EOF:
		return 0, io.EOF
	case st == readEnd:
		return 0, c.opErr("read", err)
	}
	// The multishot receive is off: receive with single ops.
	if directIO {
		switch n, errno := directRecv(c.fd, p); {
		case errno == 0 && n > 0:
			return n, nil
		case errno == 0:
			return 0, io.EOF
		case errno != eAgain:
			return 0, c.opErr("read", os.NewSyscallError("read", errno))
		}
		// Nothing there yet: the loop's receive waits for it.
	}
	res, err := c.rop.do(c.l, &c.rd, poller.Op{Code: poller.OpRecv, Fd: c.fd, Buf: p})
	if err != nil {
		return 0, c.opErr("read", mapErr(&c.rd, sysRead, err))
	}
	if res == 0 {
		return 0, io.EOF
	}
	return int(res), nil
}

// Write writes all of p, or returns how much it wrote and why it stopped: a
// *net.OpError wrapping os.ErrDeadlineExceeded, net.ErrClosed or the kernel's error
// (EPIPE, ECONNRESET). It never returns n < len(p) with a nil error.
func (c *NetConn) Write(p []byte) (int, error) {
	if !c.ref.incref() {
		return 0, c.opErr("write", net.ErrClosed)
	}
	defer c.release()
	c.wmu.Lock()
	defer c.wmu.Unlock()
	n := 0
	for n < len(p) {
		if err := checkDeadline(&c.wd); err != nil {
			return n, c.opErr("write", err)
		}
		if directIO {
			m, errno := directSend(c.fd, p[n:min(len(p), n+maxRW)])
			if errno == 0 {
				n += m
				continue
			}
			if errno != eAgain {
				return n, c.opErr("write", os.NewSyscallError("write", errno))
			}
			// The socket's buffer is full: the loop's send waits for room.
		}
		// MSG_WAITALL: the kernel keeps sending until all of it is gone, so a large
		// write is one op per maxRW bytes; a cancelled one reports what it sent.
		chunk := p[n:min(len(p), n+maxRW)]
		res, err := c.wop.do(c.l, &c.wd, poller.Op{Code: poller.OpSend, Fd: c.fd, Buf: chunk, Arg: streamSendFlags})
		if err != nil {
			return n, c.opErr("write", mapErr(&c.wd, sysWrite, err))
		}
		n += int(res)
	}
	return n, nil
}

// Close closes the connection. Blocked Read and Write calls return at once with
// errors wrapping net.ErrClosed, and the descriptor is closed through the driver when
// the last of them has returned; Close returns after that, so the descriptor is gone
// when it does. Closing again returns an error wrapping net.ErrClosed.
func (c *NetConn) Close() error {
	first, last := c.ref.markClosed()
	if !first {
		return c.opErr("close", net.ErrClosed)
	}
	c.rd.shutdown()
	c.wd.shutdown()
	if !last {
		<-c.gone // the call in flight was cancelled; it closes on its way out
		return nil
	}
	err := c.closeFd()
	close(c.gone)
	if err != nil {
		return c.opErr("close", err)
	}
	return nil
}

// CloseWrite shuts down the sending side: the peer reads EOF, and Read still works.
func (c *NetConn) CloseWrite() error { return c.shutdown(poller.ShutWr) }

// CloseRead shuts down the receiving side.
func (c *NetConn) CloseRead() error { return c.shutdown(poller.ShutRd) }

func (c *NetConn) shutdown(how int) error {
	if !c.ref.incref() {
		return c.opErr("close", net.ErrClosed)
	}
	defer c.release()
	op := poller.Op{Code: poller.OpShutdown, Fd: c.fd, Arg: uint32(how)}
	if _, err := c.l.Do(context.Background(), &op); err != nil {
		return c.opErr("close", mapErr(&c.wd, sysShutdown, err))
	}
	return nil
}

// LocalAddr returns the local address.
func (c *NetConn) LocalAddr() net.Addr { return c.laddr }

// RemoteAddr returns the peer's address.
func (c *NetConn) RemoteAddr() net.Addr { return c.raddr }

// SetDeadline sets the read and write deadlines; see net.Conn.
func (c *NetConn) SetDeadline(t time.Time) error {
	if err := c.SetReadDeadline(t); err != nil {
		return err
	}
	return c.SetWriteDeadline(t)
}

// SetReadDeadline sets the deadline for Read calls, those blocked now included: a
// deadline in the past makes a blocked Read return at once with an error wrapping
// os.ErrDeadlineExceeded. The zero time means no deadline.
func (c *NetConn) SetReadDeadline(t time.Time) error {
	if c.rd.isShut() {
		return c.opErr("set", net.ErrClosed)
	}
	c.rd.set(t)
	return nil
}

// SetWriteDeadline sets the deadline for Write calls, as SetReadDeadline does for
// reads. A Write stopped by it reports the bytes it sent.
func (c *NetConn) SetWriteDeadline(t time.Time) error {
	if c.wd.isShut() {
		return c.opErr("set", net.ErrClosed)
	}
	c.wd.set(t)
	return nil
}

// Listener is a listening socket as a net.Listener: Accept parks the calling goroutine
// on an accept op on the listener's loop, and hands each connection to the runtime's
// loops in turn. net/http's Server serves on it unchanged.
//
// Listener is safe for concurrent use by multiple goroutines (Accept calls are
// serialized). Its methods must not be called on one of the runtime's loops.
type Listener struct {
	_    noCopy
	rt   *runtime.Runtime
	l    *runtime.Loop
	fd   int
	kind netKind
	addr net.Addr
	path string              // a Unix socket's file, removed by Close
	ka   net.KeepAliveConfig // for accepted TCP connections, if kaOn
	kaOn bool
	ref  fdRef
	gone chan struct{} // closed once the socket is closed

	mu sync.Mutex // serializes Accept; guards op and sa
	dl deadline
	op opSlot
	sa poller.Sockaddr
}

var _ net.Listener = (*Listener)(nil)

// Listen listens on address (network "tcp", "tcp4", "tcp6" or "unix"), as a
// ListenConfig's zero value does: accepted TCP connections get Go's keep-alive
// defaults. As with Go's net.Listen, a host-less TCP address listens on every
// address, IPv4 and IPv6, and port 0 picks a free port (see Addr). ctx bounds name
// resolution.
func Listen(ctx context.Context, rt *runtime.Runtime, network, address string) (*Listener, error) {
	var lc ListenConfig
	return lc.Listen(ctx, rt, network, address)
}

// Accept waits for the next connection. After Close it returns an error wrapping
// net.ErrClosed; after the deadline (SetDeadline), one wrapping
// os.ErrDeadlineExceeded. A connection the kernel accepted while Close raced with it
// is still returned, never leaked.
func (ln *Listener) Accept() (net.Conn, error) {
	c, err := ln.AcceptNetConn()
	if err != nil {
		return nil, err // a nil *NetConn in a net.Conn would not compare equal to nil
	}
	return c, nil
}

// AcceptNetConn is Accept returning the concrete type.
func (ln *Listener) AcceptNetConn() (*NetConn, error) {
	if !ln.ref.incref() {
		return nil, ln.opErr(net.ErrClosed)
	}
	defer ln.release()
	ln.mu.Lock()
	defer ln.mu.Unlock()
	for {
		if err := checkDeadline(&ln.dl); err != nil {
			return nil, ln.opErr(err)
		}
		ln.sa = poller.Sockaddr{Len: uint32(len(ln.sa.Raw))}
		res, err := ln.op.do(ln.l, &ln.dl, poller.Op{Code: poller.OpAccept, Fd: ln.fd, Arg: sockFlags, Addr: &ln.sa})
		if err == nil {
			c := newNetConn(loopFor(ln.rt), int(res), ln.kind, netAddr(ln.kind, &ln.sa))
			if ln.kaOn {
				_ = applyKeepAlive(c.fd, ln.ka) // as Go's net: a refusal leaves it usable
			}
			return c, nil
		}
		if errors.Is(err, syscall.ECONNABORTED) {
			continue // the peer gave up before we took it; Go's Accept retries too
		}
		return nil, ln.opErr(mapErr(&ln.dl, sysAccept, err))
	}
}

func (ln *Listener) opErr(err error) error { return opError("accept", ln.kind.name, nil, ln.addr, err) }

func (ln *Listener) release() {
	if ln.ref.decref() {
		ln.destroy()
	}
}

// destroy closes the socket through the driver and removes a Unix socket's file. It
// runs once: for the last reference after Close.
func (ln *Listener) destroy() {
	_ = closeThrough(ln.l, ln.fd)
	if ln.path != "" {
		unlinkPath(ln.path)
	}
	close(ln.gone)
}

// Close stops listening. A blocked Accept returns an error wrapping net.ErrClosed;
// Close returns once the socket is closed. Connections already accepted stay open.
func (ln *Listener) Close() error {
	first, last := ln.ref.markClosed()
	if !first {
		return opError("close", ln.kind.name, nil, ln.addr, net.ErrClosed)
	}
	ln.dl.shutdown()
	if last {
		ln.destroy()
	} else {
		<-ln.gone
	}
	return nil
}

// Addr returns the listening address, with the port chosen when port 0 was asked.
func (ln *Listener) Addr() net.Addr { return ln.addr }

// SetDeadline sets the deadline for Accept, as net.TCPListener's does: a deadline in
// the past makes a blocked Accept return an error wrapping os.ErrDeadlineExceeded.
func (ln *Listener) SetDeadline(t time.Time) error {
	if ln.dl.isShut() {
		return opError("set", ln.kind.name, nil, ln.addr, net.ErrClosed)
	}
	ln.dl.set(t)
	return nil
}

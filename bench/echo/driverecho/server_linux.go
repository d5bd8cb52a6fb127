package driverecho

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/zokio/zokio/poller"
)

// Config sizes a Server. The zero value gives the defaults.
type Config struct {
	// Buffers is the number of receive buffers in the group that every connection
	// receives into (a power of two up to 32768; default 4096). A buffer goes back
	// to the group as soon as its bytes are copied out, so the count bounds the
	// receives that may wait in the completion queue at once, not the connections:
	// 4096 leaves room for one per connection at 1000 connections with a margin
	// for bursts.
	Buffers int
	// BufferSize is the size of each receive buffer (default 2048): larger than a
	// small request, small enough that 4096 of them stay in 8 MiB.
	BufferSize int
	// MaxPending bounds the bytes one connection holds for sending (default 1 MiB).
	// Past it the connection stops receiving until its sends have drained, so a
	// peer that writes without reading cannot make the server buffer without limit.
	MaxPending int
}

func (c *Config) setDefaults() {
	if c.Buffers == 0 {
		c.Buffers = 4096
	}
	if c.BufferSize == 0 {
		c.BufferSize = 2048
	}
	if c.MaxPending == 0 {
		c.MaxPending = 1 << 20
	}
}

// Stats counts what a Server did.
type Stats struct {
	Accepted   uint64 // connections accepted
	Closed     uint64 // connections shut down
	Recvs      uint64 // recv completions that carried data
	Sends      uint64 // send completions
	ShortSends uint64 // sends that moved fewer bytes than asked; the rest was re-sent
	Rearms     uint64 // recvs submitted again after a final completion without error
	NoBufs     uint64 // recv completions with ENOBUFS: the buffer group ran dry
	Paused     uint64 // times a connection stopped receiving at MaxPending
	BytesIn    uint64
	BytesOut   uint64
}

// acceptBackoff is how long accept rests after running out of descriptors or
// memory, instead of failing again at once in a loop.
const acceptBackoff = 10 * time.Millisecond

// yieldEvery bounds how long the loop goes without passing through the Go
// scheduler. A goroutine that only makes system calls never does, and once its
// P has gone forcePreemptNS (10 ms) without a scheduling tick, the runtime's
// sysmon treats it as a CPU hog that it cannot preempt (it is mostly inside
// system calls): it keeps waking every 20 µs and takes the P away from every
// system call it finds in flight, so each blocking Wait ends in a P hand-off,
// futex wake-ups and extra context switches. Measured on this benchmark, that
// cost 10–20% of the server's CPU per message (bench/README.md, echo). One
// runtime.Gosched every 2 ms keeps the tick fresh; on a locked thread each
// yield is itself a P hand-off, but 500 a second cost next to nothing.
const yieldEvery = 2 * time.Millisecond

// keepCap is the largest send buffer a recycled connection struct keeps.
const keepCap = 64 << 10

// Server is an echo server on one Driver. New and Serve must run on the goroutine
// that owns the driver, and the Server is used only by that goroutine, except Stop,
// which is safe for concurrent use by multiple goroutines.
type Server struct {
	d     poller.Driver
	group poller.BufferGroup
	lfd   int
	cfg   Config

	accept poller.Op // MULTISHOT accept on lfd, armed for the server's life
	retry  poller.Op // OpTimeout that re-arms accept after EMFILE and the like

	conns []*conn // every connection struct made, open or free, for shutdown
	free  *conn   // free list of connection structs, linked through nextFree
	live  int     // structs in use: open, or closed with ops still in flight

	stop     atomic.Bool // set by Stop; the loop reads it after every Wait
	stopping bool        // the loop has seen stop and is shutting down
	err      error       // a fatal accept error; ends Serve
	stats    Stats
}

// New creates a Server that accepts on the listening socket lfd (see Listen) and
// echoes on driver d. It creates the buffer group and arms the accept; the group
// lives until the driver is closed, which also frees it if New fails.
func New(d poller.Driver, lfd int, cfg Config) (*Server, error) {
	cfg.setDefaults()
	g, err := d.NewBufferGroup(cfg.Buffers, cfg.BufferSize)
	if err != nil {
		return nil, fmt.Errorf("driverecho: buffer group: %w", err)
	}
	s := &Server{d: d, group: g, lfd: lfd, cfg: cfg}
	s.accept = poller.Op{Code: poller.OpAccept, Flags: poller.FlagMultishot, Fd: lfd,
		Arg: unix.SOCK_CLOEXEC, Done: s.onAccept}
	s.retry = poller.Op{Code: poller.OpTimeout, Timeout: acceptBackoff, Done: s.onRetry}
	if err := d.Submit(&s.accept); err != nil {
		return nil, fmt.Errorf("driverecho: accept: %w", err)
	}
	return s, nil
}

// Serve runs the loop until Stop is called or accept fails for good, then closes
// every connection through the driver and waits for their ops to finish. It
// returns the accept error, a Wait error, or nil after Stop. The caller then
// closes the driver and the listening socket.
func (s *Server) Serve() error {
	start := time.Now()
	var yielded time.Duration
	for !s.stop.Load() && s.err == nil {
		if now := time.Since(start); now-yielded >= yieldEvery {
			yielded = now
			runtime.Gosched()
		}
		if _, err := s.d.Wait(-1); err != nil {
			return err
		}
	}
	s.shutdown()
	for s.accept.InFlight() || s.retry.InFlight() || s.live > 0 {
		if _, err := s.d.Wait(-1); err != nil {
			return err
		}
	}
	return s.err
}

// Stop makes Serve return once the connections are closed. Safe for concurrent
// use: the store to stop happens before the Wake, and the Wait that Wake ends is
// followed by the loop's load of stop.
func (s *Server) Stop() {
	if !s.stop.Swap(true) {
		_ = s.d.Wake()
	}
}

// Stats returns the counters. Only the goroutine that runs Serve may call it
// while Serve runs.
func (s *Server) Stats() Stats { return s.stats }

// shutdown stops accepting and closes every open connection.
func (s *Server) shutdown() {
	s.stopping = true
	if s.accept.InFlight() {
		_ = s.d.Cancel(&s.accept)
	}
	if s.retry.InFlight() {
		_ = s.d.Cancel(&s.retry)
	}
	for _, c := range s.conns {
		c.shutdown()
	}
}

// onAccept receives each accepted descriptor. The multishot accept stays armed
// while its completions have ResMore; a final one without a fatal error is
// re-armed, so one accept serves the server's whole life.
func (s *Server) onAccept(op *poller.Op) {
	if op.Res >= 0 {
		s.startConn(int(op.Res))
	}
	if op.More() || s.stopping {
		return
	}
	switch errno := syscall.Errno(-op.Res); {
	case op.Res >= 0, errno == unix.ECONNABORTED, errno == unix.EINTR:
		// The kernel ended the multishot stream, or one handshake failed.
		if err := s.d.Submit(&s.accept); err != nil {
			s.err = fmt.Errorf("driverecho: re-arming accept: %w", err)
		}
	case errno == unix.EMFILE, errno == unix.ENFILE, errno == unix.ENOBUFS, errno == unix.ENOMEM:
		if err := s.d.Submit(&s.retry); err != nil {
			s.err = fmt.Errorf("driverecho: accept backoff: %w", err)
		}
	default:
		s.err = fmt.Errorf("driverecho: accept: %w", op.Err())
	}
}

// onRetry re-arms accept after the backoff.
func (s *Server) onRetry(*poller.Op) {
	if s.stopping {
		return
	}
	if err := s.d.Submit(&s.accept); err != nil {
		s.err = fmt.Errorf("driverecho: re-arming accept: %w", err)
	}
}

// startConn sets up a connection for an accepted descriptor and arms its recv.
func (s *Server) startConn(fd int) {
	// Replies go out at once rather than wait for the peer's ACK, as Go's net
	// package and gnet also set by default.
	_ = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	c := s.newConn(fd)
	s.stats.Accepted++
	if s.stopping || !c.armRecv() {
		c.shutdown()
	}
}

// conn is one connection: its three ops, embedded so that the driver's pointers
// to them stay valid while the struct is reused, and its send buffers.
type conn struct {
	s  *Server
	fd int // -1 while the struct is on the free list

	recv  poller.Op // MULTISHOT recv with FlagBufferSelect
	send  poller.Op // at most one send in flight; its Buf is a suffix of out
	close poller.Op // the connection's end; drains recv and send first

	out  []byte // the bytes the send in flight owns; untouched until it completes
	next []byte // bytes received while the send was in flight; they go next

	open   bool // accepted, and shutdown not yet called
	eof    bool // the peer closed its side: close once out and next are sent
	paused bool // recv was cancelled at MaxPending; re-armed once sends drain

	nextFree *conn
}

// newConn takes a connection struct from the free list, or makes one.
func (s *Server) newConn(fd int) *conn {
	c := s.free
	if c != nil {
		s.free, c.nextFree = c.nextFree, nil
	} else {
		c = &conn{s: s}
		// The ops' fixed fields and callbacks are set once per struct: a method
		// value allocates, so binding Done per connection would allocate.
		c.recv = poller.Op{Code: poller.OpRecv, Flags: poller.FlagMultishot | poller.FlagBufferSelect,
			Group: s.group.ID(), Done: c.onRecv}
		c.send = poller.Op{Code: poller.OpSend, Arg: unix.MSG_NOSIGNAL, Done: c.onSend}
		c.close = poller.Op{Code: poller.OpClose, Done: c.onClose}
		s.conns = append(s.conns, c)
	}
	c.fd, c.recv.Fd, c.send.Fd, c.close.Fd = fd, fd, fd, fd
	c.open, c.eof, c.paused = true, false, false
	if cap(c.out) > keepCap || cap(c.next) > keepCap {
		c.out, c.next = nil, nil
	}
	c.out, c.next = c.out[:0], c.next[:0]
	s.live++
	return c
}

// armRecv submits the connection's multishot recv; false if the driver refused.
func (c *conn) armRecv() bool {
	return c.s.d.Submit(&c.recv) == nil
}

// onRecv handles every recv completion: copy the bytes out, give the buffer back
// at once, and when the stream ends decide between re-arming and closing.
func (c *conn) onRecv(op *poller.Op) {
	s := c.s
	if op.Result&poller.ResBuffer != 0 {
		if op.Res > 0 {
			c.echo(op.Received(s.group))
		}
		s.group.Release(op.BufID)
	}
	if op.More() {
		return
	}
	switch {
	case !c.open:
		c.maybeFree()
	case op.Res == 0: // the peer closed its side; finish sending, then close
		c.eof = true
		if !c.send.InFlight() {
			c.shutdown()
		}
	case op.Res > 0, op.Res == -int32(unix.ENOBUFS), op.Res == -int32(unix.ECANCELED):
		// The stream ended without a connection error: the kernel stopped it, the
		// group ran dry for a moment (the buffers are back now), or we cancelled
		// it at MaxPending. Re-arm unless we are still waiting for sends to drain.
		if op.Res == -int32(unix.ENOBUFS) {
			s.stats.NoBufs++
		}
		if !c.paused {
			s.stats.Rearms++
			if !c.armRecv() {
				c.shutdown()
			}
		}
	default: // ECONNRESET and the like
		c.shutdown()
	}
}

// echo queues received bytes for sending: at once when no send is in flight,
// otherwise behind it, in next.
func (c *conn) echo(data []byte) {
	s := c.s
	s.stats.Recvs++
	s.stats.BytesIn += uint64(len(data))
	if !c.open {
		return
	}
	if !c.send.InFlight() {
		c.out = append(c.out[:0], data...)
		c.startSend(c.out)
		return
	}
	c.next = append(c.next, data...)
	if len(c.next) >= s.cfg.MaxPending && !c.paused {
		c.paused = true
		s.stats.Paused++
		if c.recv.InFlight() {
			_ = s.d.Cancel(&c.recv)
		}
	}
}

func (c *conn) startSend(b []byte) {
	c.send.Buf = b
	if err := c.s.d.Submit(&c.send); err != nil {
		c.shutdown()
	}
}

// onSend handles a send's completion: re-send the rest of a short send, or send
// everything that accumulated meanwhile in one go.
func (c *conn) onSend(op *poller.Op) {
	s := c.s
	s.stats.Sends++
	if !c.open {
		c.maybeFree()
		return
	}
	if op.Res < 0 { // EPIPE, ECONNRESET: the peer is gone
		c.shutdown()
		return
	}
	s.stats.BytesOut += uint64(op.Res)
	if rest := op.Buf[op.Res:]; len(rest) > 0 {
		s.stats.ShortSends++
		c.startSend(rest)
		return
	}
	c.out, c.next = c.next, c.out[:0]
	if len(c.out) > 0 {
		c.startSend(c.out)
		return
	}
	switch {
	case c.eof:
		c.shutdown()
	case c.paused:
		c.paused = false
		// A recv still in flight is the cancelled one: its final completion
		// re-arms it, now that paused is clear.
		if !c.recv.InFlight() {
			s.stats.Rearms++
			if !c.armRecv() {
				c.shutdown()
			}
		}
	}
}

// shutdown closes the connection through the driver: OpClose cancels the recv
// and the send still in flight and releases the descriptor only after they have
// completed. The struct is free once all three ops are idle.
func (c *conn) shutdown() {
	if !c.open {
		return
	}
	c.open = false
	c.s.stats.Closed++
	if err := c.s.d.Submit(&c.close); err != nil {
		// Only a closed driver refuses, and it has already completed our ops.
		_ = unix.Close(c.fd)
	}
	c.maybeFree()
}

func (c *conn) onClose(*poller.Op) { c.maybeFree() }

// maybeFree puts a shut-down connection's struct back on the free list once
// none of its ops is in flight.
func (c *conn) maybeFree() {
	if c.open || c.fd < 0 || c.recv.InFlight() || c.send.InFlight() || c.close.InFlight() {
		return
	}
	c.fd = -1
	c.send.Buf = nil
	c.nextFree = c.s.free
	c.s.free = c
	c.s.live--
}

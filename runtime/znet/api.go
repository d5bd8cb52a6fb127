package znet

import (
	"context"
	"errors"
	"net"
	"os"
	"syscall"
	"time"

	"github.com/zokio/zokio/poller"
)

// Handler receives a connection's events. Every method runs on the connection's loop,
// one at a time, so a handler needs no locks for per-connection state (keep it in
// Conn.SetContext's slot). A method must not block: it holds up every connection of
// its loop. Writing, closing and the like from a method are cheap, and what a method
// writes leaves in one send when it returns.
type Handler interface {
	// OnOpen is called once, when the connection is ready, before any OnData.
	OnOpen(c *Conn)
	// OnData delivers received bytes. data is a view of the loop's receive buffer,
	// valid only until OnData returns, unless c.Retain is called during OnData.
	OnData(c *Conn, data []byte)
	// OnClose is called once, after the descriptor is closed, with nil when Close
	// ended the connection, io.EOF when the peer shut it down in an orderly way,
	// net.ErrClosed (wrapped) when the server or the runtime closed, or the error that
	// ended it (a *net.OpError: ECONNRESET, a timeout, ...). After OnClose, the
	// connection's methods return errors and its callbacks no longer run.
	OnClose(c *Conn, err error)
}

// EOFHandler is implemented by handlers that want to keep writing after the peer shut
// down its sending side (half-close). Without it, a connection whose peer sent EOF
// flushes what was written and closes, and OnClose receives io.EOF. With it, OnEOF is
// called instead and the connection stays open until the handler closes it.
type EOFHandler interface {
	OnEOF(c *Conn)
}

// WritableHandler is implemented by handlers that want to know when a connection
// whose Write failed with ErrWriteBufferFull can take data again: OnWritable is
// called once its unsent output has drained to a quarter of Config.WriteBufferLimit.
type WritableHandler interface {
	OnWritable(c *Conn)
}

// AcceptMode chooses how a Server spreads connections across the runtime's loops.
type AcceptMode uint8

const (
	// AcceptAuto is the default: AcceptReusePort for TCP where the kernel spreads a
	// port's connections over the sockets sharing it (Linux, FreeBSD, DragonFly),
	// AcceptHandoff for Unix sockets (the kernel has no SO_REUSEPORT for them), on
	// macOS, NetBSD and OpenBSD (whose SO_REUSEPORT does not spread connections)
	// and on Windows (which has none at all).
	AcceptAuto AcceptMode = iota
	// AcceptReusePort gives every loop its own listening socket, bound to the same
	// address with SO_REUSEPORT, and its own multishot accept: the kernel spreads
	// connections by hashing their addresses, and a connection lives on the loop that
	// accepted it, so accepting costs no cross-thread handoff. The port is shared
	// with no other server unless Config.ReusePort says so. See the package
	// documentation for the measurements behind the default. FreeBSD's option
	// for this is SO_REUSEPORT_LB. On macOS, NetBSD and OpenBSD the sockets share
	// the port but the kernel picks which of them gets a connection, without
	// spreading them. Windows has no SO_REUSEPORT: there Serve refuses it with an
	// error wrapping errors.ErrUnsupported.
	AcceptReusePort
	// AcceptHandoff has one listening socket and one multishot accept on the first
	// loop, which hands connections to the loops in turn (a post to the target
	// loop's inbox). The spread is exactly even, at the price of a wakeup of the
	// target loop per connection.
	AcceptHandoff
	acceptModeEnd
)

// valid reports whether m is one of the modes above; Serve refuses the others.
func (m AcceptMode) valid() bool { return m < acceptModeEnd }

// Defaults of Config's fields.
const (
	DefaultWriteBufferLimit = 1 << 20
	DefaultRecvBufferSize   = 16 << 10
	DefaultRecvBuffers      = 1024
	// The default receive group where the loop's driver consumes buffers a piece
	// at a time (poller.FeatIncrementalBuffers: io_uring on Linux 6.12 or later):
	// fewer, larger buffers, 4 MiB per loop instead of 16. Small messages share a
	// buffer there, so 64 serve thousands of connections, and a burst is taken in
	// receives of up to 64 KiB instead of 16: in bench/echo at 50 × 4 KiB
	// pipelined, a quarter of the receives per message and 3–32% less CPU per
	// message (medians of four paired runs); at 64 bytes the same within noise.
	DefaultIncRecvBufferSize = 64 << 10
	DefaultIncRecvBuffers    = 64
	DefaultFlushTimeout      = 5 * time.Second
	DefaultSendZCThreshold   = 64 << 10
)

// Config configures Serve (and every connection of the Server). The zero value,
// with a Handler, serves with the defaults.
type Config struct {
	// Handler receives every connection's events. Required.
	Handler Handler
	// Accept chooses how connections spread across loops (default AcceptAuto).
	Accept AcceptMode
	// ReusePort lets the server share its port with other listening sockets that
	// ask for sharing too (SO_REUSEPORT, SO_REUSEPORT_LB on FreeBSD; on Linux
	// those of the same user), such as
	// another Server with ReusePort, another process of it, or a program started to
	// replace it: the kernel then spreads connections across all of them. Off by
	// default: Serve fails with an error matching syscall.EADDRINUSE when the address
	// is in use, as znet.Listen and net.Listen do.
	//
	// Either way the loops of one server share their port among themselves
	// (AcceptReusePort). Without ReusePort the first loop's socket binds alone,
	// without SO_REUSEPORT, so the bind fails if anything holds the port; it takes
	// SO_REUSEPORT only once bound, so that the other loops' sockets can join it.
	// Nothing is probed first, so there is no window in which another server could
	// slip in: an unrelated socket without SO_REUSEPORT can never bind the port
	// afterwards, but one that asks for SO_REUSEPORT still can, as the kernel lets
	// it. Unix sockets have no port sharing; ReusePort is ignored for them. Where
	// the system has no SO_REUSEPORT (Windows), Serve with ReusePort fails with an
	// error matching errors.ErrUnsupported. Backends: all.
	ReusePort bool
	// WriteBufferLimit bounds a connection's unsent output, in bytes (default
	// DefaultWriteBufferLimit). A connection whose output exceeds half of it stops
	// reading until the output drains to a quarter; a Write that would exceed it
	// fails with ErrWriteBufferFull. So a peer that never reads cannot make the
	// server hold more than this per connection. It is at least twice the receive
	// buffer size (smaller values are raised to that; with the default group, twice
	// the larger of its two sizes): one OnData can carry a whole receive buffer, and
	// a handler that writes back what it reads must never meet the error. Backends:
	// all.
	WriteBufferLimit int
	// IdleTimeout closes a connection on which nothing was received or sent for this
	// long (0: never). OnClose then gets an error matching ErrIdleTimeout.
	IdleTimeout time.Duration
	// ReadTimeout closes a connection on which nothing was received for this long,
	// whatever it sends (0: never).
	ReadTimeout time.Duration
	// FlushTimeout bounds how long Close waits for unsent output to leave before it
	// closes anyway (default DefaultFlushTimeout; negative: do not wait).
	FlushTimeout time.Duration
	// RecvBufferSize and RecvBuffers size the provided-buffer group each loop
	// receives into; the count is rounded up to a power of two. Connections share
	// it: a buffer goes back as soon as OnData returns (and, where the driver
	// consumes buffers incrementally, once every piece of it has), so the count
	// bounds receives waiting at once, not connections. Servers with equal sizes
	// share one group per loop. With both zero, each loop's group depends on its
	// driver: DefaultIncRecvBuffers × DefaultIncRecvBufferSize where the driver has
	// poller.FeatIncrementalBuffers, else DefaultRecvBuffers ×
	// DefaultRecvBufferSize, which is also what a zero field takes when the other
	// is set. A handler that retains many received buffers at once (Conn.Retain)
	// may want more than 64: a piece it holds keeps its whole buffer out. A group
	// whose receives run dry (ENOBUFS) as many times as it has buffers grows: the
	// loop makes one with twice the buffers, up to 64 MiB, and connections move to
	// it as they re-arm; the old group stays with the driver (see LoopRecvStats).
	RecvBufferSize int
	RecvBuffers    int
	// SendZCThreshold is the send size from which a connection sends with
	// SEND_ZC (zero copy) where the driver has it (default DefaultSendZCThreshold;
	// negative: never). Loopback and Unix-socket peers never use it: the kernel copies
	// zero-copy data for local delivery anyway, and measured slower here (see the
	// package documentation). Backends: uring.
	SendZCThreshold int
	// SendZCLocal lets SEND_ZC go to loopback peers too. The kernel copies zero-copy
	// data for local delivery, so this only adds the notification's cost; it exists to
	// measure registered-buffer sends on one machine.
	SendZCLocal bool
	// SendArena, when positive, gives every loop of the server an arena of that many
	// 64 KiB send buffers, mapped outside the Go heap and registered with the loop's
	// ring (runtime.NewArena, RegisterAuto). A connection writes into an arena buffer
	// while its pending output fits in one and the arena has one free; otherwise into
	// Go-heap buffers, as without the option. Zero-copy sends (see SendZCThreshold)
	// from a registered arena buffer pass it as a fixed buffer, so the kernel does not
	// pin its pages per send. Where the memory cannot be registered (RLIMIT_MEMLOCK,
	// the epoll driver) the arena still serves, unregistered, and
	// Server.SendArenaErr says why. Copy sends gain nothing from it: the kernel copies
	// either way (a plain send from a registered buffer is refused by Linux 6.18).
	SendArena int
	// Nagle keeps Nagle's algorithm on. By default TCP_NODELAY is set, as Go's net
	// package does.
	Nagle bool
	// KeepAlive is the keep-alive idle time of accepted TCP connections, as
	// ListenConfig.KeepAlive: 0 means DefaultKeepAliveIdle (15 s) with Go's default
	// interval and count, as Go's net gives accepted connections; negative turns
	// probes off. Ignored when KeepAliveConfig.Enable is true. Backends: all.
	KeepAlive time.Duration
	// KeepAliveConfig, when Enable is true, is the keep-alive of accepted TCP
	// connections (see NetConn.SetKeepAliveConfig). Backends: all.
	KeepAliveConfig net.KeepAliveConfig
	// Control, if not nil, is called with every listening socket the server makes
	// (one per loop with AcceptReusePort) after the package's own options and before
	// bind, as ListenConfig.Control; an error fails Serve. Backends: all.
	Control func(network, address string, c syscall.RawConn) error
}

func (c *Config) setDefaults() {
	if c.WriteBufferLimit <= 0 {
		c.WriteBufferLimit = DefaultWriteBufferLimit
	}
	if c.RecvBufferSize <= 0 && c.RecvBuffers <= 0 {
		// Both stay zero: each loop's driver picks (recvGroupSize).
		c.RecvBufferSize, c.RecvBuffers = 0, 0
		c.WriteBufferLimit = max(c.WriteBufferLimit, 2*max(DefaultRecvBufferSize, DefaultIncRecvBufferSize))
	} else {
		if c.RecvBufferSize <= 0 {
			c.RecvBufferSize = DefaultRecvBufferSize
		}
		if c.RecvBuffers <= 0 {
			c.RecvBuffers = DefaultRecvBuffers
		}
		c.WriteBufferLimit = max(c.WriteBufferLimit, 2*c.RecvBufferSize)
		n := 1
		for n < c.RecvBuffers && n < 32768 {
			n <<= 1
		}
		c.RecvBuffers = n
	}
	if c.FlushTimeout == 0 {
		c.FlushTimeout = DefaultFlushTimeout
	}
	if c.SendZCThreshold == 0 {
		c.SendZCThreshold = DefaultSendZCThreshold
	}
}

// recvGroupSize returns the count and size of the receive group on a loop whose
// driver has features f: the configured ones, or the default for that driver.
func (c *Config) recvGroupSize(f poller.Features) (count, size int) {
	switch {
	case c.RecvBuffers > 0:
		return c.RecvBuffers, c.RecvBufferSize
	case f.Has(poller.FeatIncrementalBuffers):
		return DefaultIncRecvBuffers, DefaultIncRecvBufferSize
	default:
		return DefaultRecvBuffers, DefaultRecvBufferSize
	}
}

// hooks are the optional handler interfaces, looked up once per server.
type hooks struct {
	eof      EOFHandler
	writable WritableHandler
}

func hooksOf(h Handler) hooks {
	var k hooks
	k.eof, _ = h.(EOFHandler)
	k.writable, _ = h.(WritableHandler)
	return k
}

// ErrWriteBufferFull is returned (wrapped in a *net.OpError) by Conn.Write and
// Conn.Writev when accepting the bytes would take the connection's unsent output past
// Config.WriteBufferLimit. Nothing was copied; the handler keeps its bytes and writes
// them again after OnWritable. See Conn.Write for the whole backpressure contract.
var ErrWriteBufferFull = errors.New("znet: write buffer full")

// ErrIdleTimeout is the error (wrapped in a *net.OpError, whose Timeout method reports
// true) that OnClose receives when a connection is closed because Config.IdleTimeout or
// Config.ReadTimeout passed. errors.Is reports it as os.ErrDeadlineExceeded too.
var ErrIdleTimeout error = idleTimeoutError{}

type idleTimeoutError struct{}

// Error, Timeout and Temporary make it a net.Error that says "timeout", as
// os.ErrDeadlineExceeded does; Is makes errors.Is match that too.
func (idleTimeoutError) Error() string   { return "znet: connection idle for too long" }
func (idleTimeoutError) Timeout() bool   { return true }
func (idleTimeoutError) Temporary() bool { return true }
func (idleTimeoutError) Is(target error) bool {
	return target == os.ErrDeadlineExceeded
}

// errUnsupported is what the package returns on platforms without an implementation.
var errUnsupported = errors.New("znet: not implemented on this platform: " + errors.ErrUnsupported.Error())

// unsupportedErr wraps errors.ErrUnsupported with the operation that needed it.
// ctxError maps a context's error as Go's net package does for Dial: a deadline is an
// "i/o timeout" whose Timeout() is true and that matches both context.DeadlineExceeded
// and os.ErrDeadlineExceeded; a cancellation is "operation was canceled", matching
// context.Canceled.
func ctxError(err error) error {
	switch err {
	case context.DeadlineExceeded:
		return dialTimeoutError{}
	case context.Canceled:
		return dialCanceledError{}
	}
	return err
}

type dialTimeoutError struct{}

func (dialTimeoutError) Error() string   { return "i/o timeout" }
func (dialTimeoutError) Timeout() bool   { return true }
func (dialTimeoutError) Temporary() bool { return true }

// Is matches context.DeadlineExceeded only, as net's own error for a dial whose
// context expired does: it is no os.ErrDeadlineExceeded, which names a passed
// SetDeadline.
func (dialTimeoutError) Is(target error) bool { return target == context.DeadlineExceeded }

type dialCanceledError struct{}

func (dialCanceledError) Error() string        { return "operation was canceled" }
func (dialCanceledError) Is(target error) bool { return target == context.Canceled }

func unsupportedErr(op, network string) error {
	return &net.OpError{Op: op, Net: network, Err: wrapUnsupported{}}
}

type wrapUnsupported struct{}

// Error and Unwrap make errors.Is(err, errors.ErrUnsupported) hold.
func (wrapUnsupported) Error() string { return errUnsupported.Error() }
func (wrapUnsupported) Unwrap() error { return errors.ErrUnsupported }

// opError builds the error shape Go's net package returns: Source is the local
// address, Addr the remote one (for listeners and dials, the address asked for).
func opError(op, network string, src, addr net.Addr, err error) error {
	return &net.OpError{Op: op, Net: network, Source: src, Addr: addr, Err: err}
}

// resErr turns a negative completion result into the error Go's net package would
// wrap: *os.SyscallError naming the system call.
func resErr(syscallName string, res int32) error {
	return os.NewSyscallError(syscallName, hostErrno(syscall.Errno(-res)))
}

// isErrno reports whether a completion result is -errno.
func isErrno(res int32, errno syscall.Errno) bool { return res == -int32(errno) }

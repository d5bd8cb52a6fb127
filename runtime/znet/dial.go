package znet

import (
	"context"
	"errors"
	"net"
	"os"
	"syscall"
	"time"

	"github.com/zokio/zokio/poller"
	"github.com/zokio/zokio/runtime"
)

// Dialer holds options for connecting, as net.Dialer does; its zero value dials as
// Dial does. A Dialer is safe for concurrent use by multiple goroutines once set up,
// as long as its fields are not changed meanwhile.
type Dialer struct {
	// Timeout bounds one dial (resolution and connecting) from its start; 0: none.
	// With Deadline and the context's deadline, the earliest applies.
	Timeout time.Duration
	// Deadline is the absolute time after which a dial fails; zero: none.
	Deadline time.Time
	// LocalAddr is the local address to bind before connecting: a *net.TCPAddr for
	// TCP, a *net.UDPAddr for UDP, a *net.UnixAddr for Unix; nil lets the system pick.
	LocalAddr net.Addr
	// KeepAlive is the idle time before the first keep-alive probe of a TCP
	// connection, as net.Dialer.KeepAlive: 0 means DefaultKeepAliveIdle (15 s) with
	// Go's default interval and count, a negative value turns probes off. Ignored
	// when KeepAliveConfig.Enable is true.
	KeepAlive time.Duration
	// KeepAliveConfig, when Enable is true, sets keep-alive as
	// NetConn.SetKeepAliveConfig does.
	KeepAliveConfig net.KeepAliveConfig
	// Control, if not nil, is called with the new socket before it is bound and
	// connected, as net.Dialer.Control: network is the resolved network ("tcp4",
	// "tcp6", "udp4", "udp6", "unix") and address the resolved address. An error
	// aborts that address's attempt.
	Control func(network, address string, c syscall.RawConn) error
}

// Dial connects to address on network ("tcp", "tcp4", "tcp6", "unix", "udp", "udp4"
// or "udp6"), trying the resolved addresses in order, and returns the connection
// with its ops on one of rt's loops (in turn): a *NetConn for the stream networks, a
// *UDPConn for the datagram ones. ctx bounds resolution and connecting; when it ends,
// the connect in flight is cancelled. A refused connection fails with a
// *net.OpError whose error matches syscall.ECONNREFUSED.
func Dial(ctx context.Context, rt *runtime.Runtime, network, address string) (net.Conn, error) {
	var d Dialer
	return d.Dial(ctx, rt, network, address)
}

// DialNetConn is Dial for the stream networks ("tcp", "tcp4", "tcp6", "unix"),
// returning the concrete type.
func DialNetConn(ctx context.Context, rt *runtime.Runtime, network, address string) (*NetConn, error) {
	var d Dialer
	return d.DialNetConn(ctx, rt, network, address)
}

// DialUDP is Dial for the datagram networks ("udp", "udp4", "udp6"), returning the
// concrete type: a connected UDP socket.
func DialUDP(ctx context.Context, rt *runtime.Runtime, network, address string) (*UDPConn, error) {
	var d Dialer
	return d.DialUDP(ctx, rt, network, address)
}

// Dial connects as the package's Dial does, with d's options.
func (d *Dialer) Dial(ctx context.Context, rt *runtime.Runtime, network, address string) (net.Conn, error) {
	if _, err := parseNetwork(network, true); err == nil {
		c, err := d.DialUDP(ctx, rt, network, address)
		if err != nil {
			return nil, err // a nil *UDPConn in a net.Conn would not compare equal to nil
		}
		return c, nil
	}
	c, err := d.DialNetConn(ctx, rt, network, address)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// DialNetConn is Dialer.Dial for the stream networks, returning the concrete type.
func (d *Dialer) DialNetConn(ctx context.Context, rt *runtime.Runtime, network, address string) (*NetConn, error) {
	fd, l, k, raddr, err := d.dial(ctx, rt, network, address, false)
	if err != nil {
		return nil, err
	}
	c := newNetConn(l, fd, k, raddr)
	if !k.isUnix() {
		if ka, on := keepAliveFor(d.KeepAlive, d.KeepAliveConfig); on {
			_ = applyKeepAlive(fd, ka) // as Go's net: a refusal leaves the connection usable
		}
	}
	return c, nil
}

// DialUDP is Dialer.Dial for the datagram networks, returning the concrete type.
func (d *Dialer) DialUDP(ctx context.Context, rt *runtime.Runtime, network, address string) (*UDPConn, error) {
	fd, l, k, raddr, err := d.dial(ctx, rt, network, address, true)
	if err != nil {
		return nil, err
	}
	return newUDPConn(l, fd, k, raddr), nil
}

// context returns ctx bounded by Timeout and Deadline.
func (d *Dialer) context(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx = orBackground(ctx)
	when := d.Deadline
	if d.Timeout > 0 {
		if t := time.Now().Add(d.Timeout); when.IsZero() || t.Before(when) {
			when = t
		}
	}
	if when.IsZero() {
		return ctx, func() {}
	}
	return context.WithDeadline(ctx, when)
}

func orBackground(ctx context.Context) context.Context {
	if ctx == nil {
		return context.Background()
	}
	return ctx
}

// dial resolves address and connects a socket of network's type to the first
// address that takes it.
func (d *Dialer) dial(ctx context.Context, rt *runtime.Runtime, network, address string, packet bool) (int, *runtime.Loop, netKind, net.Addr, error) {
	if !supported {
		return -1, nil, netKind{}, nil, unsupportedErr("dial", network)
	}
	if err := runtimeErr(rt); err != nil {
		return -1, nil, netKind{}, nil, opError("dial", network, d.LocalAddr, nil, err)
	}
	k, err := parseNetwork(network, packet)
	if err != nil {
		return -1, nil, k, nil, opError("dial", network, nil, nil, err)
	}
	ctx, cancel := d.context(ctx)
	defer cancel()
	addrs, err := resolveDial(ctx, k, address)
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			err = ctxError(cerr)
		}
		return -1, nil, k, nil, opError("dial", network, d.LocalAddr, nil, err)
	}
	var first error
	for i := range addrs {
		raddr := netAddr(k, &addrs[i])
		if err := ctx.Err(); err != nil {
			// As Go's dial reports a context that ended: with the address it was
			// about to try.
			if first == nil {
				first = opError("dial", network, d.LocalAddr, raddr, ctxError(err))
			}
			break
		}
		l := loopFor(rt)
		fd, err := d.connect(ctx, l, k, &addrs[i], raddr)
		if err == nil {
			return fd, l, k, raddr, nil
		}
		if first == nil {
			first = err
		}
	}
	return -1, nil, k, nil, first
}

// connect makes one socket, runs the Control hook, binds LocalAddr and connects.
func (d *Dialer) connect(ctx context.Context, l *runtime.Loop, k netKind, sa *poller.Sockaddr, raddr net.Addr) (int, error) {
	fail := func(fd int, err error) (int, error) {
		if fd >= 0 {
			_ = closeFd(fd) // no op of ours was ever submitted on it
		}
		return -1, opError("dial", k.name, d.LocalAddr, raddr, err)
	}
	family := int(rawFamily(sa))
	fd, err := newSocket(family, k.sotype)
	if err != nil {
		return fail(-1, err)
	}
	if k.sotype == sockDgram && family != afUnix {
		setBroadcast(fd)
	}
	if d.Control != nil {
		if err := d.Control(resolvedNetwork(k, family), raddr.String(), controlConn(fd)); err != nil {
			return fail(fd, err)
		}
	}
	if d.LocalAddr != nil {
		var lsa poller.Sockaddr
		if err := localSockaddr(k, family, d.LocalAddr, &lsa); err != nil {
			return fail(fd, err)
		}
		if err := bindFd(fd, &lsa); err != nil {
			return fail(fd, wrapSyscall("bind", err))
		}
	}
	op := poller.Op{Code: poller.OpConnect, Fd: fd, Addr: sa}
	if _, err := l.Do(ctx, &op); err != nil {
		_ = closeThrough(l, fd)
		if ctx.Err() != nil {
			err = ctxError(ctx.Err()) // as Go's Dial reports a context that ended
		} else {
			err = mapErr(&deadline{}, sysConnect, err)
		}
		return -1, opError("dial", k.name, d.LocalAddr, raddr, err)
	}
	return fd, nil
}

// resolvedNetwork is the network name Go's net hands a Control hook: the family made
// explicit ("tcp4", "udp6") or "unix".
func resolvedNetwork(k netKind, family int) string {
	base := "tcp"
	if k.sotype == sockDgram {
		base = "udp"
	}
	switch family {
	case afInet:
		return base + "4"
	case afInet6:
		return base + "6"
	}
	return "unix"
}

// localSockaddr converts a Dialer's LocalAddr to the raw form for a socket of family.
func localSockaddr(k netKind, family int, a net.Addr, sa *poller.Sockaddr) error {
	switch a := a.(type) {
	case *net.TCPAddr:
		if k.sotype == sockStream && family != afUnix {
			putInet(sa, a.AddrPort(), family)
			return nil
		}
	case *net.UDPAddr:
		if k.sotype == sockDgram && family != afUnix {
			putInet(sa, a.AddrPort(), family)
			return nil
		}
	case *net.UnixAddr:
		if family == afUnix {
			return putUnix(sa, a.Name)
		}
	}
	return &net.AddrError{Err: "mismatched local address type", Addr: addrString(a)}
}

// controlConn is the syscall.RawConn a Control hook gets: Control runs f on the new
// socket; Read and Write are not for set-up and fail.
type controlConn int

func (c controlConn) Control(f func(fd uintptr)) error { f(uintptr(c)); return nil }

func (controlConn) Read(func(fd uintptr) bool) error  { return errControlOnly }
func (controlConn) Write(func(fd uintptr) bool) error { return errControlOnly }

var errControlOnly = errors.New("znet: a Control hook's RawConn only runs Control")

// wrapSyscall names the system call a raw errno came from, as *os.SyscallError.
func wrapSyscall(name string, err error) error {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return os.NewSyscallError(name, hostErrno(errno))
	}
	return err
}

// ListenConfig holds options for listening, as net.ListenConfig does; its zero value
// listens as Listen and ListenPacket do.
type ListenConfig struct {
	// Control, if not nil, is called with the new socket after the package's own
	// options and before bind, as net.ListenConfig.Control: network is the resolved
	// network ("tcp4", "tcp6", "udp4", "udp6", "unix"), address the address to bind.
	Control func(network, address string, c syscall.RawConn) error
	// KeepAlive is the keep-alive idle time of accepted TCP connections, as
	// net.ListenConfig.KeepAlive: 0 means DefaultKeepAliveIdle (15 s), negative turns
	// probes off. Ignored when KeepAliveConfig.Enable is true.
	KeepAlive time.Duration
	// KeepAliveConfig, when Enable is true, is the keep-alive of accepted TCP
	// connections (see NetConn.SetKeepAliveConfig).
	KeepAliveConfig net.KeepAliveConfig
}

// control returns the bindSocket hook that runs lc.Control, or nil.
func (lc *ListenConfig) control(k netKind, sa *poller.Sockaddr) func(fd int) error {
	if lc.Control == nil {
		return nil
	}
	family := int(rawFamily(sa))
	address := addrString(netAddr(k, sa))
	return func(fd int) error { return lc.Control(resolvedNetwork(k, family), address, controlConn(fd)) }
}

// Listen listens on address (network "tcp", "tcp4", "tcp6" or "unix") with lc's
// options; see the package's Listen.
func (lc *ListenConfig) Listen(ctx context.Context, rt *runtime.Runtime, network, address string) (*Listener, error) {
	if !supported {
		return nil, unsupportedErr("listen", network)
	}
	if err := runtimeErr(rt); err != nil {
		return nil, opError("listen", network, nil, nil, err)
	}
	k, err := parseNetwork(network, false)
	if err != nil {
		return nil, opError("listen", network, nil, nil, err)
	}
	sa, v6only, err := resolveListen(orBackground(ctx), k, address)
	if err != nil {
		return nil, opError("listen", network, nil, nil, err)
	}
	fd, err := bindSocket(sockStream, &sa, listenerOptions{v6only: v6only, control: lc.control(k, &sa)})
	if err != nil {
		return nil, opError("listen", network, nil, netAddr(k, &sa), err)
	}
	if err := sockname(fd, &sa); err != nil {
		_ = closeFd(fd)
		return nil, opError("listen", network, nil, nil, err)
	}
	ln := &Listener{rt: rt, l: loopFor(rt), fd: fd, kind: k, addr: netAddr(k, &sa), gone: make(chan struct{})}
	if k.isUnix() && address[0] != '@' {
		ln.path = address
	} else if !k.isUnix() {
		ln.ka, ln.kaOn = keepAliveFor(lc.KeepAlive, lc.KeepAliveConfig)
	}
	ln.dl.init()
	return ln, nil
}

// ListenPacket opens a UDP socket bound to address with lc's options; see the
// package's ListenPacket.
func (lc *ListenConfig) ListenPacket(ctx context.Context, rt *runtime.Runtime, network, address string) (*PacketConn, error) {
	return listenPacket(ctx, rt, network, address, lc)
}

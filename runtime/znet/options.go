package znet

import (
	"net"
	"os"
	"time"
)

// Socket options of stream connections, as *net.TCPConn and *net.UnixConn offer them,
// and the keep-alive defaults of Go's net: a dialed or accepted TCP connection sends
// keep-alive probes after 15 s idle, every 15 s, and gives up after 9 unanswered.

// Go's net defaults for keep-alive (its defaultTCPKeepAliveIdle, Interval, Count).
const (
	DefaultKeepAliveIdle     = 15 * time.Second
	DefaultKeepAliveInterval = 15 * time.Second
	DefaultKeepAliveCount    = 9
)

// keepAliveFor is the keep-alive a new TCP connection gets from a Dialer's or a
// ListenConfig's fields, as Go's net derives it: an enabled config as given, else
// a non-negative period (0: DefaultKeepAliveIdle) with the default interval and count,
// else none.
func keepAliveFor(period time.Duration, cfg net.KeepAliveConfig) (net.KeepAliveConfig, bool) {
	if cfg.Enable {
		return cfg, true
	}
	if period < 0 {
		return net.KeepAliveConfig{}, false
	}
	return net.KeepAliveConfig{Enable: true, Idle: period}, true
}

// applyKeepAlive sets cfg on a TCP socket; a field of 0 takes Go's default, a
// negative one leaves that option as it is.
func applyKeepAlive(fd int, cfg net.KeepAliveConfig) error {
	// As Go's net: the timing is set whether or not probes are on.
	if err := setSockoptInt(fd, solSocket, soKeepAlive, boolInt(cfg.Enable)); err != nil {
		return err
	}
	if err := setKeepTimes(fd, cfg.Idle, cfg.Interval); err != nil {
		return err
	}
	switch {
	case cfg.Count < 0 || !haveKeepTune:
		return nil
	case cfg.Count == 0:
		cfg.Count = DefaultKeepAliveCount
	}
	return setSockoptInt(fd, ipprotoTCP, tcpKeepCnt, cfg.Count)
}

// setKeepTime sets a keep-alive time option in whole seconds, rounded up as Go's net
// rounds it; 0 takes def, a negative d leaves the option alone.
func setKeepTime(fd, opt int, d, def time.Duration) error {
	if d < 0 || !haveKeepTune {
		return nil
	}
	if d == 0 {
		d = def
	}
	secs := int((d + time.Second - 1) / time.Second)
	return setSockoptInt(fd, ipprotoTCP, opt, secs)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// sockopt runs set on the descriptor while holding a reference, and wraps its error
// as net does: a *net.OpError with Op "set".
func (c *NetConn) sockopt(set func(fd int) error) error {
	if !c.ref.incref() {
		return c.opErr("set", net.ErrClosed)
	}
	defer c.release()
	if err := set(c.fd); err != nil {
		return c.opErr("set", err)
	}
	return nil
}

// tcpOnly refuses TCP options on a Unix connection, as *net.UnixConn has none.
func (c *NetConn) tcpOnly(set func(fd int) error) error {
	if c.kind.isUnix() {
		return c.opErr("set", os.NewSyscallError("setsockopt", errNotTCP))
	}
	return c.sockopt(set)
}

// SetKeepAlive turns TCP keep-alive probes on or off, as net.TCPConn.SetKeepAlive.
// Dialed and accepted TCP connections have them on already (see Dialer.KeepAlive).
func (c *NetConn) SetKeepAlive(keepalive bool) error {
	return c.tcpOnly(func(fd int) error { return setSockoptInt(fd, solSocket, soKeepAlive, boolInt(keepalive)) })
}

// SetKeepAlivePeriod sets how long the connection stays idle before the first
// keep-alive probe (whole seconds, rounded up), as net.TCPConn.SetKeepAlivePeriod.
func (c *NetConn) SetKeepAlivePeriod(d time.Duration) error {
	return c.tcpOnly(func(fd int) error { return setKeepIdle(fd, d) })
}

// SetKeepAliveConfig configures keep-alive as net.TCPConn.SetKeepAliveConfig: Enable
// turns probes on or off, and a zero Idle, Interval or Count takes Go's default
// (DefaultKeepAliveIdle ...) while a negative one leaves that option unchanged.
func (c *NetConn) SetKeepAliveConfig(config net.KeepAliveConfig) error {
	return c.tcpOnly(func(fd int) error { return applyKeepAlive(fd, config) })
}

// SetNoDelay controls Nagle's algorithm (TCP_NODELAY), as net.TCPConn.SetNoDelay: true,
// the default of every znet connection as of Go's, sends small writes at once.
func (c *NetConn) SetNoDelay(noDelay bool) error {
	return c.tcpOnly(func(fd int) error { return setSockoptInt(fd, ipprotoTCP, tcpNoDelay, boolInt(noDelay)) })
}

// SetLinger sets what Close does with unsent data, as net.TCPConn.SetLinger: sec < 0
// (the default) sends it in the background, 0 discards it and resets the
// connection, sec > 0 lingers up to sec seconds.
func (c *NetConn) SetLinger(sec int) error {
	return c.tcpOnly(func(fd int) error { return setLingerOpt(fd, sec) })
}

// SetReadBuffer sets the size of the socket's receive buffer (SO_RCVBUF).
func (c *NetConn) SetReadBuffer(bytes int) error {
	return c.sockopt(func(fd int) error { return setSockoptInt(fd, solSocket, soRcvBuf, bytes) })
}

// SetWriteBuffer sets the size of the socket's send buffer (SO_SNDBUF).
func (c *NetConn) SetWriteBuffer(bytes int) error {
	return c.sockopt(func(fd int) error { return setSockoptInt(fd, solSocket, soSndBuf, bytes) })
}

// File returns a duplicate of the socket's descriptor as an *os.File, as
// net.TCPConn.File does: closing one leaves the other open. Windows has none.
func (c *NetConn) File() (*os.File, error) {
	if !c.ref.incref() {
		return nil, c.opErr("file", net.ErrClosed)
	}
	defer c.release()
	f, err := dupFile(c.fd, "znet "+c.kind.name+" "+addrString(c.laddr)+"->"+addrString(c.raddr))
	if err != nil {
		return nil, c.opErr("file", err)
	}
	return f, nil
}

// errNotTCP is the errno for a TCP option asked of a Unix socket.
var errNotTCP error = hostErrno(eOpNotSupp)

// SetReadBuffer sets the size of the socket's receive buffer (SO_RCVBUF), as
// net.UDPConn.SetReadBuffer does: the kernel may round or double it.
func (c *PacketConn) SetReadBuffer(bytes int) error {
	return c.sockopt(func(fd int) error { return setSockoptInt(fd, solSocket, soRcvBuf, bytes) })
}

// SetWriteBuffer sets the size of the socket's send buffer (SO_SNDBUF), as
// net.UDPConn.SetWriteBuffer does.
func (c *PacketConn) SetWriteBuffer(bytes int) error {
	return c.sockopt(func(fd int) error { return setSockoptInt(fd, solSocket, soSndBuf, bytes) })
}

// sockopt runs set on the descriptor while it is held open.
func (c *PacketConn) sockopt(set func(fd int) error) error {
	if !c.ref.incref() {
		return c.opErr("set", nil, net.ErrClosed)
	}
	defer c.release()
	if err := set(c.fd); err != nil {
		return c.opErr("set", nil, err)
	}
	return nil
}

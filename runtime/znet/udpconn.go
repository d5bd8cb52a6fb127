package znet

import (
	"net"
	"net/netip"
	"os"
	"syscall"

	"github.com/zokio/zokio/poller"
	"github.com/zokio/zokio/runtime"
)

// UDPConn is a connected UDP socket, as Dial returns for "udp", "udp4" and "udp6": a
// net.Conn whose Read receives one datagram from the peer (truncated to the buffer,
// as Go's is) and whose Write sends p as one datagram to it. It has the PacketConn's
// methods too, as *net.UDPConn has: ReadFrom reports the sender, and WriteTo fails
// with net.ErrWriteToConnected, as Go's does on a connected socket.
//
// UDPConn is safe for concurrent use by multiple goroutines. Its methods must not be
// called on one of the runtime's loops.
type UDPConn struct {
	*PacketConn
	raddr net.Addr
}

var _ net.Conn = (*UDPConn)(nil)

// newUDPConn wraps a connected datagram socket whose ops will run on l.
func newUDPConn(l *runtime.Loop, fd int, k netKind, raddr net.Addr) *UDPConn {
	var sa poller.Sockaddr
	c := &PacketConn{l: l, fd: fd, kind: k, gone: make(chan struct{})}
	if sockname(fd, &sa) == nil {
		c.v6 = rawFamily(&sa) == afInet6
		c.laddr = netAddr(k, &sa)
	}
	c.rd.init()
	c.wd.init()
	return &UDPConn{PacketConn: c, raddr: raddr}
}

// RemoteAddr returns the peer's address, a *net.UDPAddr.
func (c *UDPConn) RemoteAddr() net.Addr { return c.raddr }

func (c *UDPConn) opErr(op string, err error) error {
	return opError(op, c.kind.name, c.laddr, c.raddr, err)
}

// Read receives one datagram from the peer into p. A datagram longer than p is
// truncated; the rest of it is lost, as with Go's. An empty p returns 0 at once.
func (c *UDPConn) Read(p []byte) (int, error) {
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
	res, err := c.rop.do(c.l, &c.rd, poller.Op{Code: poller.OpRecv, Fd: c.fd, Buf: p[:min(len(p), maxRW)]})
	if err != nil {
		return 0, c.opErr("read", mapErr(&c.rd, sysRecv, err))
	}
	return int(res), nil
}

// Write sends p as one datagram to the peer. A datagram too long for the socket fails
// with an error matching syscall.EMSGSIZE and sends nothing.
func (c *UDPConn) Write(p []byte) (int, error) {
	if !c.ref.incref() {
		return 0, c.opErr("write", net.ErrClosed)
	}
	defer c.release()
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := checkDeadline(&c.wd); err != nil {
		return 0, c.opErr("write", err)
	}
	if len(p) > maxRW {
		return 0, c.opErr("write", os.NewSyscallError(sysSend, hostErrno(syscall.EMSGSIZE)))
	}
	res, err := c.wop.do(c.l, &c.wd, poller.Op{Code: poller.OpSend, Fd: c.fd, Buf: p, Arg: poller.MsgNoSignal})
	if err != nil {
		return 0, c.opErr("write", mapErr(&c.wd, sysSend, err))
	}
	return int(res), nil
}

// WriteTo fails on a connected socket with net.ErrWriteToConnected, as
// net.UDPConn.WriteTo does.
func (c *UDPConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	return 0, opError("write", c.kind.name, c.laddr, addr, net.ErrWriteToConnected)
}

// WriteToUDPAddrPort fails as WriteTo does.
func (c *UDPConn) WriteToUDPAddrPort(p []byte, addr netip.AddrPort) (int, error) {
	return 0, opError("write", c.kind.name, c.laddr, net.UDPAddrFromAddrPort(addr), net.ErrWriteToConnected)
}

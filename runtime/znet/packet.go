package znet

import (
	"context"
	"net"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/zokio/zokio/poller"
	"github.com/zokio/zokio/runtime"
)

// PacketConn is a UDP socket as a net.PacketConn. ReadFrom and WriteTo are one
// recvmsg and one sendmsg on the socket's loop, parking the calling goroutine until
// they complete. ReadFromUDPAddrPort and WriteToUDPAddrPort do the same without
// allocating.
//
// Receiving uses single-shot recvmsg: the poller.Driver contract has no multishot
// recvmsg yet (the io_uring binding has IORING_RECV_MULTISHOT with
// PrepRecvmsgMultishot and ParseRecvmsgOut; the contract would need an op that
// delivers each datagram with its address out of a provided buffer).
//
// PacketConn is safe for concurrent use by multiple goroutines (reads are serialized,
// as are writes). Its methods must not be called on one of the runtime's loops.
type PacketConn struct {
	_     noCopy
	l     *runtime.Loop
	fd    int
	kind  netKind
	v6    bool // an AF_INET6 socket: IPv4 peers are addressed IPv4-mapped
	laddr net.Addr
	ref   fdRef
	gone  chan struct{} // closed once the descriptor is closed

	rmu  sync.Mutex // serializes reads; guards rop, rsa, rbuf
	rd   deadline
	rop  opSlot
	rsa  poller.Sockaddr
	rbuf [1][]byte
	one  [1]byte // receives a datagram read with an empty buffer

	wmu  sync.Mutex // serializes writes; guards wop, wsa, wbuf
	wd   deadline
	wop  opSlot
	wsa  poller.Sockaddr
	wbuf [1][]byte
}

var _ net.PacketConn = (*PacketConn)(nil)

// ListenPacket opens a UDP socket bound to address (network "udp", "udp4" or "udp6";
// port 0 picks a free port). ctx bounds name resolution.
func ListenPacket(ctx context.Context, rt *runtime.Runtime, network, address string) (*PacketConn, error) {
	return listenPacket(ctx, rt, network, address, &ListenConfig{})
}

func listenPacket(ctx context.Context, rt *runtime.Runtime, network, address string, lc *ListenConfig) (*PacketConn, error) {
	if !supported {
		return nil, unsupportedErr("listen", network)
	}
	if err := runtimeErr(rt); err != nil {
		return nil, opError("listen", network, nil, nil, err)
	}
	k, err := parseNetwork(network, true)
	if err != nil {
		return nil, opError("listen", network, nil, nil, err)
	}
	sa, v6only, err := resolveListen(orBackground(ctx), k, address)
	if err != nil {
		return nil, opError("listen", network, nil, nil, err)
	}
	fd, err := bindSocket(sockDgram, &sa, listenerOptions{v6only: v6only, control: lc.control(k, &sa)})
	if err != nil {
		return nil, opError("listen", network, nil, netAddr(k, &sa), err)
	}
	if err := sockname(fd, &sa); err != nil {
		_ = closeFd(fd)
		return nil, opError("listen", network, nil, nil, err)
	}
	c := &PacketConn{l: loopFor(rt), fd: fd, kind: k, v6: rawFamily(&sa) == afInet6, laddr: netAddr(k, &sa), gone: make(chan struct{})}
	c.rd.init()
	c.wd.init()
	return c, nil
}

func (c *PacketConn) opErr(op string, addr net.Addr, err error) error {
	return opError(op, c.kind.name, c.laddr, addr, err)
}

func (c *PacketConn) release() {
	if c.ref.decref() {
		_ = closeThrough(c.l, c.fd)
		close(c.gone)
	}
}

// ReadFrom reads one datagram into p and returns its size (truncated to len(p), as
// Go's does) and its sender as a *net.UDPAddr.
func (c *PacketConn) ReadFrom(p []byte) (int, net.Addr, error) {
	n, ap, err := c.ReadFromUDPAddrPort(p)
	if err != nil {
		return n, nil, err
	}
	return n, net.UDPAddrFromAddrPort(ap), nil
}

// ReadFromUDPAddrPort is ReadFrom returning the sender as a netip.AddrPort; it
// allocates nothing.
func (c *PacketConn) ReadFromUDPAddrPort(p []byte) (int, netip.AddrPort, error) {
	if !c.ref.incref() {
		return 0, netip.AddrPort{}, c.opErr("read", nil, net.ErrClosed)
	}
	defer c.release()
	c.rmu.Lock()
	defer c.rmu.Unlock()
	if err := checkDeadline(&c.rd); err != nil {
		return 0, netip.AddrPort{}, c.opErr("read", nil, err)
	}
	c.rbuf[0] = p[:min(len(p), maxRW)] // no datagram is longer
	if len(p) == 0 {
		c.rbuf[0] = c.one[:]
	}
	c.rsa = poller.Sockaddr{Len: uint32(len(c.rsa.Raw))}
	res, err := c.rop.do(c.l, &c.rd, poller.Op{Code: poller.OpRecvmsg, Fd: c.fd, Bufs: c.rbuf[:], Addr: &c.rsa})
	c.rbuf[0] = nil
	if err != nil {
		return 0, netip.AddrPort{}, c.opErr("read", nil, mapErr(&c.rd, sysRecvmsg, err))
	}
	ap, _ := inetAddrPort(&c.rsa)
	return min(int(res), len(p)), ap, nil
}

// WriteTo sends p as one datagram to addr, a *net.UDPAddr.
func (c *PacketConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	ua, ok := addr.(*net.UDPAddr)
	if !ok || ua == nil {
		return 0, c.opErr("write", addr, &net.AddrError{Err: "not a UDP address", Addr: addrString(addr)})
	}
	return c.writeTo(p, ua.AddrPort(), addr)
}

// WriteToUDPAddrPort sends p as one datagram to addr; it allocates nothing.
func (c *PacketConn) WriteToUDPAddrPort(p []byte, addr netip.AddrPort) (int, error) {
	return c.writeTo(p, addr, nil)
}

func (c *PacketConn) writeTo(p []byte, ap netip.AddrPort, addr net.Addr) (int, error) {
	if !c.ref.incref() {
		return 0, c.opErr("write", addr, net.ErrClosed)
	}
	defer c.release()
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := checkDeadline(&c.wd); err != nil {
		return 0, c.opErr("write", addr, err)
	}
	if len(p) > maxRW {
		// No datagram can be this long; the kernel would say the same of one over
		// 64 KiB, and the driver takes no op of more than poller.MaxRW.
		return 0, c.opErr("write", addr, os.NewSyscallError("sendmsg", syscall.EMSGSIZE))
	}
	if !ap.Addr().IsValid() {
		// A nil IP means the unspecified address of the socket's family, as in Go's
		// net (the kernel then delivers to this host).
		if c.v6 {
			ap = netip.AddrPortFrom(netip.IPv6Unspecified(), ap.Port())
		} else {
			ap = netip.AddrPortFrom(netip.IPv4Unspecified(), ap.Port())
		}
	}
	family := afInet
	if c.v6 {
		family = afInet6
	} else if !ap.Addr().Unmap().Is4() {
		return 0, c.opErr("write", addr, &net.AddrError{Err: "IPv6 address on an IPv4 socket", Addr: ap.String()})
	}
	putInet(&c.wsa, ap, family)
	c.wbuf[0] = p
	res, err := c.wop.do(c.l, &c.wd, poller.Op{Code: poller.OpSendmsg, Fd: c.fd, Bufs: c.wbuf[:], Addr: &c.wsa, Arg: poller.MsgNoSignal})
	c.wbuf[0] = nil
	if err != nil {
		return 0, c.opErr("write", addr, mapErr(&c.wd, sysSendmsg, err))
	}
	return int(res), nil
}

func addrString(a net.Addr) string {
	if a == nil {
		return "<nil>"
	}
	return a.String()
}

// Close closes the socket; blocked reads and writes return errors wrapping
// net.ErrClosed, and Close returns once the descriptor is closed.
func (c *PacketConn) Close() error {
	first, last := c.ref.markClosed()
	if !first {
		return c.opErr("close", nil, net.ErrClosed)
	}
	c.rd.shutdown()
	c.wd.shutdown()
	if !last {
		<-c.gone
		return nil
	}
	err := closeThrough(c.l, c.fd)
	close(c.gone)
	if err != nil {
		return c.opErr("close", nil, err)
	}
	return nil
}

// LocalAddr returns the socket's address.
func (c *PacketConn) LocalAddr() net.Addr { return c.laddr }

// SetDeadline sets the read and write deadlines.
func (c *PacketConn) SetDeadline(t time.Time) error {
	if err := c.SetReadDeadline(t); err != nil {
		return err
	}
	return c.SetWriteDeadline(t)
}

// SetReadDeadline sets the deadline for reads, blocked ones included.
func (c *PacketConn) SetReadDeadline(t time.Time) error {
	if c.rd.isShut() {
		return c.opErr("set", nil, net.ErrClosed)
	}
	c.rd.set(t)
	return nil
}

// SetWriteDeadline sets the deadline for writes, blocked ones included.
func (c *PacketConn) SetWriteDeadline(t time.Time) error {
	if c.wd.isShut() {
		return c.opErr("set", nil, net.ErrClosed)
	}
	c.wd.set(t)
	return nil
}

package driverecho

import (
	"fmt"
	"net/netip"
	"os"

	"golang.org/x/sys/unix"
)

// Listen opens a TCP listening socket on addr, a numeric "host:port" (port 0
// picks a free one), and returns its descriptor and the address it is bound to.
// The socket is non-blocking and close-on-exec, has SO_REUSEADDR (a restarted
// server can bind while old connections linger in TIME_WAIT) and a backlog of
// backlog connections (the kernel caps it at net.core.somaxconn).
func Listen(addr string, backlog int) (fd int, bound string, err error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return -1, "", fmt.Errorf("driverecho: listen address: %w", err)
	}
	var family int
	var sa unix.Sockaddr
	if ip := ap.Addr().Unmap(); ip.Is4() {
		family, sa = unix.AF_INET, &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ip.As4()}
	} else {
		family, sa = unix.AF_INET6, &unix.SockaddrInet6{Port: int(ap.Port()), Addr: ip.As16()}
	}
	fd, err = unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, "", os.NewSyscallError("socket", err)
	}
	fail := func(call string, err error) (int, string, error) {
		unix.Close(fd)
		return -1, "", os.NewSyscallError(call, err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
		return fail("setsockopt", err)
	}
	if err := unix.Bind(fd, sa); err != nil {
		return fail("bind", err)
	}
	if err := unix.Listen(fd, backlog); err != nil {
		return fail("listen", err)
	}
	got, err := unix.Getsockname(fd)
	if err != nil {
		return fail("getsockname", err)
	}
	switch a := got.(type) {
	case *unix.SockaddrInet4:
		bound = netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port)).String()
	case *unix.SockaddrInet6:
		bound = netip.AddrPortFrom(netip.AddrFrom16(a.Addr), uint16(a.Port)).String()
	}
	return fd, bound, nil
}

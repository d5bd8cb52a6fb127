//go:build unix

package znet

import (
	"golang.org/x/sys/unix"

	"github.com/zokio/zokio/poller"
)

// Conversions between the BSD sockaddr layout and x/sys's unix.Sockaddr, which the
// BSDs' bind, getsockname and getpeername take or return. x/sys's types are the same
// on every Unix, so this builds (and its tests run) on Linux too.

// toSockaddr converts a raw address in this layout into x/sys's form, for the calls
// that take one.
func (l bsdLayout) toSockaddr(sa *poller.Sockaddr) (unix.Sockaddr, error) {
	if ip, port, scope, ok := l.decodeInet(sa); ok {
		if ip.Is4() {
			return &unix.SockaddrInet4{Port: int(port), Addr: ip.As4()}, nil
		}
		return &unix.SockaddrInet6{Port: int(port), ZoneId: scope, Addr: ip.As16()}, nil
	}
	if l.family(sa) == uint16(l.unix) {
		return &unix.SockaddrUnix{Name: l.unixPath(sa)}, nil
	}
	return nil, unix.EAFNOSUPPORT
}

// fromSockaddr writes x/sys's form of an address into sa in this layout.
func (l bsdLayout) fromSockaddr(sa *poller.Sockaddr, from unix.Sockaddr) error {
	switch a := from.(type) {
	case *unix.SockaddrInet4:
		l.putInet4(sa, a.Addr, uint16(a.Port))
	case *unix.SockaddrInet6:
		l.putInet6(sa, a.Addr, uint16(a.Port), a.ZoneId)
	case *unix.SockaddrUnix:
		if a.Name == "" {
			// An unnamed socket: the header alone, as the kernel reports it.
			*sa = poller.Sockaddr{Len: bsdUnixHeader}
			sa.Raw[0], sa.Raw[1] = bsdUnixHeader, l.unix
			return nil
		}
		return l.putUnix(sa, a.Name)
	default:
		return unix.EAFNOSUPPORT
	}
	return nil
}

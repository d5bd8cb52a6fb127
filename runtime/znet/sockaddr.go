//go:build linux || windows

package znet

import (
	"encoding/binary"
	"net/netip"
	"syscall"

	"github.com/zokio/zokio/poller"
)

// Sizes of struct sockaddr_in and sockaddr_in6, and the room for a path in
// sockaddr_un: the same on Linux and on Windows (ws2def.h, afunix.h), where the
// family is a little-endian u_short first and the port follows in network byte order.
const (
	sizeofSockaddrInet4 = 16
	sizeofSockaddrInet6 = 28
	sizeofUnixPath      = 108
)

// Raw sockaddr encoding. The layouts are the system's struct sockaddr_in,
// sockaddr_in6 and sockaddr_un: the family in host byte order, ports in network
// byte order. Encoding them byte by byte keeps unsafe out of address handling.

func rawFamily(sa *poller.Sockaddr) uint16 { return binary.NativeEndian.Uint16(sa.Raw[0:2]) }

// putInet writes ap into sa as sockaddr_in (an IPv4 address on an AF_INET socket)
// or sockaddr_in6 (anything on an AF_INET6 socket; IPv4 becomes IPv4-mapped).
func putInet(sa *poller.Sockaddr, ap netip.AddrPort, family int) {
	*sa = poller.Sockaddr{}
	ip := ap.Addr()
	binary.NativeEndian.PutUint16(sa.Raw[0:2], uint16(family))
	binary.BigEndian.PutUint16(sa.Raw[2:4], ap.Port())
	if family == afInet {
		a := ip.Unmap().As4()
		copy(sa.Raw[4:8], a[:])
		sa.Len = sizeofSockaddrInet4
		return
	}
	a := ip.As16()
	copy(sa.Raw[8:24], a[:])
	binary.NativeEndian.PutUint32(sa.Raw[24:28], zoneIndex(ip.Zone()))
	sa.Len = sizeofSockaddrInet6
}

// putUnix writes a sockaddr_un for path; a leading '@' names an abstract socket.
func putUnix(sa *poller.Sockaddr, path string) error {
	*sa = poller.Sockaddr{}
	if len(path) == 0 || len(path) >= sizeofUnixPath {
		return syscall.EINVAL
	}
	binary.NativeEndian.PutUint16(sa.Raw[0:2], afUnix)
	copy(sa.Raw[2:], path)
	n := 2 + len(path)
	if path[0] == '@' {
		sa.Raw[2] = 0 // abstract: no terminating NUL is counted
	} else {
		n++ // the terminating NUL
	}
	sa.Len = uint32(n)
	return nil
}

// inetAddrPort decodes an AF_INET or AF_INET6 sockaddr; ok is false for others.
func inetAddrPort(sa *poller.Sockaddr) (netip.AddrPort, bool) {
	switch rawFamily(sa) {
	case afInet:
		ip := netip.AddrFrom4([4]byte(sa.Raw[4:8]))
		return netip.AddrPortFrom(ip, binary.BigEndian.Uint16(sa.Raw[2:4])), true
	case afInet6:
		ip := netip.AddrFrom16([16]byte(sa.Raw[8:24]))
		if scope := binary.NativeEndian.Uint32(sa.Raw[24:28]); scope != 0 {
			ip = ip.WithZone(zoneName(int(scope)))
		}
		return netip.AddrPortFrom(ip, binary.BigEndian.Uint16(sa.Raw[2:4])), true
	}
	return netip.AddrPort{}, false
}

// unixPath decodes an AF_UNIX sockaddr's path ("" for an unnamed socket).
func unixPath(sa *poller.Sockaddr) string {
	n := int(sa.Len) - 2
	if n <= 0 {
		// An unnamed socket (an unbound client, or an accepted peer's end): Go's
		// syscall package reads its empty path as an abstract one and net prints "@".
		return "@"
	}
	p := sa.Raw[2 : 2+n]
	if p[0] == 0 {
		return "@" + string(p[1:]) // abstract; Go's net spells it with '@' too
	}
	for i, b := range p {
		if b == 0 {
			p = p[:i]
			break
		}
	}
	return string(p)
}

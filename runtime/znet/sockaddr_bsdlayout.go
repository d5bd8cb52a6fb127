package znet

import (
	"encoding/binary"
	"net/netip"
	"syscall"

	"github.com/zokio/zokio/poller"
)

// The BSD sockaddr layout, which macOS, FreeBSD, NetBSD, OpenBSD and DragonFly share:
// a length byte, then a one-byte family, then what Linux has (ports in network byte
// order, the IPv6 scope id in host order). Only the family numbers differ between the
// systems (AF_INET6 is 30 on macOS, 28 on FreeBSD and DragonFly, 24 on NetBSD and
// OpenBSD), so the code takes them as a bsdLayout. It is byte code without a build
// constraint, so that its tests run on Linux; sockaddr_bsd.go uses it with the host's
// numbers.

// Sizes of struct sockaddr_in, sockaddr_in6 and sockaddr_un's sun_path on the BSDs.
const (
	bsdSizeofInet4 = 16
	bsdSizeofInet6 = 28
	bsdUnixPath    = 104
	bsdUnixHeader  = 2 // sun_len, sun_family
)

// bsdLayout holds a BSD system's address family numbers.
type bsdLayout struct{ inet, inet6, unix uint8 }

// family returns sa's address family (0 for an empty sa).
func (bsdLayout) family(sa *poller.Sockaddr) uint16 { return uint16(sa.Raw[1]) }

// putInet4 writes a sockaddr_in.
func (l bsdLayout) putInet4(sa *poller.Sockaddr, addr [4]byte, port uint16) {
	*sa = poller.Sockaddr{Len: bsdSizeofInet4}
	sa.Raw[0], sa.Raw[1] = bsdSizeofInet4, l.inet
	binary.BigEndian.PutUint16(sa.Raw[2:4], port)
	copy(sa.Raw[4:8], addr[:])
}

// putInet6 writes a sockaddr_in6 (flow info 0).
func (l bsdLayout) putInet6(sa *poller.Sockaddr, addr [16]byte, port uint16, scope uint32) {
	*sa = poller.Sockaddr{Len: bsdSizeofInet6}
	sa.Raw[0], sa.Raw[1] = bsdSizeofInet6, l.inet6
	binary.BigEndian.PutUint16(sa.Raw[2:4], port)
	copy(sa.Raw[8:24], addr[:])
	binary.NativeEndian.PutUint32(sa.Raw[24:28], scope)
}

// putInet writes ap as a sockaddr_in (family inet) or a sockaddr_in6 (family inet6:
// an IPv4 address becomes IPv4-mapped).
func (l bsdLayout) putInet(sa *poller.Sockaddr, ap netip.AddrPort, family int) {
	ip := ap.Addr()
	if family == int(l.inet) {
		l.putInet4(sa, ip.Unmap().As4(), ap.Port())
		return
	}
	l.putInet6(sa, ip.As16(), ap.Port(), zoneIndex(ip.Zone()))
}

// putUnix writes a sockaddr_un for path, its length counting the terminating NUL as
// Go's syscall package counts it. The BSDs have no abstract sockets: a leading '@'
// is part of the file name.
func (l bsdLayout) putUnix(sa *poller.Sockaddr, path string) error {
	*sa = poller.Sockaddr{}
	if len(path) == 0 || len(path) >= bsdUnixPath {
		return syscall.EINVAL
	}
	n := bsdUnixHeader + len(path) + 1
	sa.Raw[0], sa.Raw[1] = byte(n), l.unix
	copy(sa.Raw[bsdUnixHeader:], path)
	sa.Len = uint32(n)
	return nil
}

// decodeInet decodes a sockaddr_in or sockaddr_in6: the address (with no zone), the port
// and the scope id; ok is false for another family or a short sa.
func (l bsdLayout) decodeInet(sa *poller.Sockaddr) (ip netip.Addr, port uint16, scope uint32, ok bool) {
	switch {
	case sa.Raw[1] == l.inet && sa.Len >= bsdSizeofInet4:
		ip = netip.AddrFrom4([4]byte(sa.Raw[4:8]))
	case sa.Raw[1] == l.inet6 && sa.Len >= bsdSizeofInet6:
		ip = netip.AddrFrom16([16]byte(sa.Raw[8:24]))
		scope = binary.NativeEndian.Uint32(sa.Raw[24:28])
	default:
		return netip.Addr{}, 0, 0, false
	}
	return ip, binary.BigEndian.Uint16(sa.Raw[2:4]), scope, true
}

// inetAddrPort is decodeInet with the scope id as the address's zone.
func (l bsdLayout) inetAddrPort(sa *poller.Sockaddr) (netip.AddrPort, bool) {
	ip, port, scope, ok := l.decodeInet(sa)
	if !ok {
		return netip.AddrPort{}, false
	}
	if scope != 0 {
		ip = ip.WithZone(zoneName(int(scope)))
	}
	return netip.AddrPortFrom(ip, port), true
}

// unixPath decodes a sockaddr_un's path: up to the first NUL within the length, as
// Go's syscall package reads it (some BSDs count the NUL in the length, others do
// not). An unnamed socket's path is "", which Go's net prints as such there.
func (bsdLayout) unixPath(sa *poller.Sockaddr) string {
	n := min(int(sa.Len), len(sa.Raw)) - bsdUnixHeader
	if n <= 0 {
		return ""
	}
	p := sa.Raw[bsdUnixHeader : bsdUnixHeader+min(n, bsdUnixPath)]
	for i, b := range p {
		if b == 0 {
			return string(p[:i])
		}
	}
	return string(p)
}

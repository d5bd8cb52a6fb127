package znet

import (
	"context"
	"net"
	"net/netip"
	"strconv"
	"sync"

	"github.com/zokio/zokio/poller"
)

// netKind is a parsed network name.
type netKind struct {
	name   string // as the caller spelled it: "tcp", "tcp4", "tcp6", "unix", "udp", ...
	sotype int    // sockStream or sockDgram
	family int    // afInet, afInet6 or afUnix; 0: chosen by the address ("tcp", "udp")
}

func (k netKind) isUnix() bool { return k.family == afUnix }

// parseNetwork accepts the stream networks (packet false) or the datagram ones.
func parseNetwork(network string, packet bool) (netKind, error) {
	k := netKind{name: network, sotype: sockStream}
	base := "tcp"
	if packet {
		k.sotype, base = sockDgram, "udp"
	}
	switch network {
	case base:
	case base + "4":
		k.family = afInet
	case base + "6":
		k.family = afInet6
	case "unix":
		if packet {
			return k, net.UnknownNetworkError(network)
		}
		k.family = afUnix
	default:
		return k, net.UnknownNetworkError(network)
	}
	return k, nil
}

// ipv6OK reports whether this host can make IPv6 sockets: a wildcard "tcp" listener
// is then dual-stack ([::] with IPV6_V6ONLY off), as Go's net package makes it,
// where the system has dual-stack sockets (dualStack).
var ipv6OK = sync.OnceValue(func() bool {
	fd, err := newSocket(afInet6, sockStream)
	if err != nil {
		return false
	}
	_ = closeFd(fd)
	return true
})

// resolveListen returns the raw address to bind for address on network k, and
// whether an AF_INET6 socket must refuse IPv4 peers.
func resolveListen(ctx context.Context, k netKind, address string) (poller.Sockaddr, bool, error) {
	var sa poller.Sockaddr
	if k.isUnix() {
		return sa, false, putUnix(&sa, address)
	}
	host, port, err := splitHostPort(ctx, k, address)
	if err != nil {
		return sa, false, err
	}
	var ip netip.Addr
	switch {
	case host != "":
		ips, err := lookupHost(ctx, k, host)
		if err != nil {
			return sa, false, err
		}
		ip = ips[0]
	case k.family == afInet || (k.family == 0 && (!dualStack || !ipv6OK())):
		ip = netip.IPv4Unspecified()
	default:
		ip = netip.IPv6Unspecified() // dual-stack unless the network says tcp6/udp6
	}
	family := familyFor(k, ip)
	putInet(&sa, netip.AddrPortFrom(ip, port), family)
	return sa, k.family == afInet6, nil
}

// resolveDial returns the raw addresses to try, in order, for address on network k.
// An empty host means the local system, as in Go's net.Dial.
func resolveDial(ctx context.Context, k netKind, address string) ([]poller.Sockaddr, error) {
	if k.isUnix() {
		var sa poller.Sockaddr
		if err := putUnix(&sa, address); err != nil {
			return nil, err
		}
		return []poller.Sockaddr{sa}, nil
	}
	host, port, err := splitHostPort(ctx, k, address)
	if err != nil {
		return nil, err
	}
	var ips []netip.Addr
	if host == "" {
		if k.family == afInet6 {
			ips = []netip.Addr{netip.IPv6Loopback()}
		} else {
			ips = []netip.Addr{netip.AddrFrom4([4]byte{127, 0, 0, 1})}
		}
	} else if ips, err = lookupHost(ctx, k, host); err != nil {
		return nil, err
	}
	out := make([]poller.Sockaddr, len(ips))
	for i, ip := range ips {
		putInet(&out[i], netip.AddrPortFrom(ip, port), familyFor(k, ip))
	}
	return out, nil
}

// familyFor is the socket family for ip on network k.
func familyFor(k netKind, ip netip.Addr) int {
	if k.family != 0 {
		return k.family
	}
	if ip.Is4() || ip.Is4In6() {
		return afInet
	}
	return afInet6
}

func splitHostPort(ctx context.Context, k netKind, address string) (string, uint16, error) {
	host, service, err := net.SplitHostPort(address)
	if err != nil {
		return "", 0, err
	}
	if n, err := strconv.ParseUint(service, 10, 16); err == nil {
		return host, uint16(n), nil
	}
	port, err := net.DefaultResolver.LookupPort(ctx, k.name, service)
	if err != nil {
		return "", 0, err
	}
	return host, uint16(port), nil
}

// lookupHost resolves host (a literal or a name) to the addresses network k can use.
func lookupHost(ctx context.Context, k netKind, host string) ([]netip.Addr, error) {
	if ip, err := netip.ParseAddr(host); err == nil {
		if !familyOK(k, ip) {
			return nil, &net.AddrError{Err: "address of the wrong family for " + k.name, Addr: host}
		}
		return []netip.Addr{ip}, nil
	}
	want := "ip"
	switch k.family {
	case afInet:
		want = "ip4"
	case afInet6:
		want = "ip6"
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, want, host)
	if err != nil {
		return nil, err
	}
	if len(ips) == 0 {
		return nil, &net.DNSError{Err: "no suitable address", Name: host, IsNotFound: true}
	}
	return ips, nil
}

func familyOK(k netKind, ip netip.Addr) bool {
	switch k.family {
	case afInet:
		return ip.Is4() || ip.Is4In6()
	case afInet6:
		return ip.Is6()
	}
	return true
}

// netAddr converts a raw address of a socket on network k into the net.Addr Go's net
// package would report: *net.TCPAddr, *net.UDPAddr or *net.UnixAddr.
func netAddr(k netKind, sa *poller.Sockaddr) net.Addr {
	if k.isUnix() || rawFamily(sa) == afUnix {
		return &net.UnixAddr{Name: unixPath(sa), Net: "unix"}
	}
	ap, ok := inetAddrPort(sa)
	if !ok {
		return nil
	}
	if k.sotype == sockDgram {
		return net.UDPAddrFromAddrPort(ap)
	}
	return net.TCPAddrFromAddrPort(ap)
}

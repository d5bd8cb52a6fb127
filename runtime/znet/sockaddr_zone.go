package znet

import (
	"net"
	"strconv"
)

// IPv6 zones: the interface a link-local address belongs to, a name in netip and
// net, an index (sin6_scope_id) in a sockaddr.

// zoneIndex is the scope id of zone z: its interface's index, or z itself when it is
// a number; 0 for no zone or an unknown name.
func zoneIndex(z string) uint32 {
	if z == "" {
		return 0
	}
	if ifi, err := net.InterfaceByName(z); err == nil {
		return uint32(ifi.Index)
	}
	if n, err := strconv.Atoi(z); err == nil {
		return uint32(n)
	}
	return 0
}

// zoneName is the zone of scope id index: its interface's name, or the number.
func zoneName(index int) string {
	if ifi, err := net.InterfaceByIndex(index); err == nil {
		return ifi.Name
	}
	return strconv.Itoa(index)
}

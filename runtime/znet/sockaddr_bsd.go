//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package znet

import (
	"net/netip"

	"golang.org/x/sys/unix"

	"github.com/zokio/zokio/poller"
)

// The raw sockaddr encoding on macOS and the BSDs: the BSD layout
// (sockaddr_bsdlayout.go) with this system's family numbers.

var host = bsdLayout{inet: unix.AF_INET, inet6: unix.AF_INET6, unix: unix.AF_UNIX}

// The layout is the system's.
var (
	_ [unix.SizeofSockaddrInet4 - bsdSizeofInet4]byte
	_ [bsdSizeofInet4 - unix.SizeofSockaddrInet4]byte
	_ [unix.SizeofSockaddrInet6 - bsdSizeofInet6]byte
	_ [bsdSizeofInet6 - unix.SizeofSockaddrInet6]byte
	_ [len(unix.RawSockaddrUnix{}.Path) - bsdUnixPath]byte
	_ [bsdUnixPath - len(unix.RawSockaddrUnix{}.Path)]byte
)

func rawFamily(sa *poller.Sockaddr) uint16 { return host.family(sa) }

// putInet writes ap into sa as sockaddr_in (an IPv4 address on an AF_INET socket)
// or sockaddr_in6 (anything on an AF_INET6 socket; IPv4 becomes IPv4-mapped).
func putInet(sa *poller.Sockaddr, ap netip.AddrPort, family int) { host.putInet(sa, ap, family) }

// putUnix writes a sockaddr_un for path (no abstract names here).
func putUnix(sa *poller.Sockaddr, path string) error { return host.putUnix(sa, path) }

// inetAddrPort decodes an AF_INET or AF_INET6 sockaddr; ok is false for others.
func inetAddrPort(sa *poller.Sockaddr) (netip.AddrPort, bool) { return host.inetAddrPort(sa) }

// unixPath decodes an AF_UNIX sockaddr's path ("" for an unnamed socket).
func unixPath(sa *poller.Sockaddr) string { return host.unixPath(sa) }

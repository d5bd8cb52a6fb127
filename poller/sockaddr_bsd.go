//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package poller

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// Conversion of x/sys's unix.Sockaddr, which accept returns, to a raw socket address
// (a Sockaddr's bytes: BSD layout, with the length in the first byte). The other way
// is in sys_libc.go.

// putSockaddr writes sa into raw in the kernel's layout and returns its length; 0 if
// sa is nil, of a family it does not know, or larger than raw.
func putSockaddr(raw []byte, sa unix.Sockaddr) uint32 {
	var src []byte
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		r := unix.RawSockaddrInet4{Len: unix.SizeofSockaddrInet4, Family: unix.AF_INET, Addr: a.Addr}
		p := (*[2]byte)(unsafe.Pointer(&r.Port))
		p[0], p[1] = byte(a.Port>>8), byte(a.Port)
		src = unsafe.Slice((*byte)(unsafe.Pointer(&r)), unsafe.Sizeof(r))
	case *unix.SockaddrInet6:
		r := unix.RawSockaddrInet6{Len: unix.SizeofSockaddrInet6, Family: unix.AF_INET6, Addr: a.Addr, Scope_id: a.ZoneId}
		p := (*[2]byte)(unsafe.Pointer(&r.Port))
		p[0], p[1] = byte(a.Port>>8), byte(a.Port)
		src = unsafe.Slice((*byte)(unsafe.Pointer(&r)), unsafe.Sizeof(r))
	case *unix.SockaddrUnix:
		var r unix.RawSockaddrUnix
		if len(a.Name) >= len(r.Path) {
			return 0
		}
		r.Family = unix.AF_UNIX
		for i := range len(a.Name) {
			r.Path[i] = int8(a.Name[i])
		}
		n := int(unsafe.Offsetof(r.Path)) + len(a.Name) + 1
		r.Len = uint8(n)
		src = unsafe.Slice((*byte)(unsafe.Pointer(&r)), n)
	default:
		return 0
	}
	if len(src) > len(raw) {
		return 0
	}
	return uint32(copy(raw, src))
}

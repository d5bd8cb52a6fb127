package znet

import (
	"encoding/binary"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/zokio/zokio/poller"
)

// The system layer: socket creation, socket options and the translation between
// net addresses and the kernel's raw sockaddr form (poller.Sockaddr). Everything
// else in the package reaches the kernel through the runtime's loops and the
// poller.Driver contract; only set-up and address queries call the kernel directly.

// supported is true where the package has a working implementation.
const supported = true

// Errnos the portable code compares completions against (the host's values).
const (
	eCanceled  = unix.ECANCELED
	eNoBufs    = unix.ENOBUFS
	eConnAbort = unix.ECONNABORTED
	eIntr      = unix.EINTR
	eMFile     = unix.EMFILE
	eNFile     = unix.ENFILE
	eNoMem     = unix.ENOMEM
	eOpNotSupp = unix.EOPNOTSUPP
)

const (
	msgNoSignal = unix.MSG_NOSIGNAL
	msgWaitAll  = unix.MSG_WAITALL
	shutWr      = unix.SHUT_WR
	shutRd      = unix.SHUT_RD
	sockFlags   = unix.SOCK_NONBLOCK | unix.SOCK_CLOEXEC
)

// family and type of a socket, as the kernel names them.
const (
	sockStream = unix.SOCK_STREAM
	sockDgram  = unix.SOCK_DGRAM

	afInet  = unix.AF_INET
	afInet6 = unix.AF_INET6
	afUnix  = unix.AF_UNIX
)

// newSocket creates a non-blocking, close-on-exec socket. Non-blocking is what the
// readiness drivers need; io_uring completes ops on such sockets the same way.
func newSocket(family, sotype int) (int, error) {
	fd, err := unix.Socket(family, sotype|sockFlags, 0)
	if err != nil {
		return -1, os.NewSyscallError("socket", err)
	}
	return fd, nil
}

// listenerOptions are the socket options of a listening socket.
type listenerOptions struct {
	reusePort bool // SO_REUSEPORT before bind: join a group sharing the port
	// reusePortBound sets SO_REUSEPORT after bind, before listen: the bind fails
	// if anything holds the port, and the sockets bound next with reusePort join
	// this one (the kernel checks the flag of the socket already bound when the
	// next binds, and forms the group at listen).
	reusePortBound bool
	v6only         bool // for AF_INET6: refuse IPv4-mapped peers ("tcp6", "udp6")
}

// bindSocket creates a socket of the family of sa, sets its options, binds it and,
// for stream sockets, listens. It closes the socket on failure.
func bindSocket(sotype int, sa *poller.Sockaddr, o listenerOptions) (int, error) {
	family := int(rawFamily(sa))
	fd, err := newSocket(family, sotype)
	if err != nil {
		return -1, err
	}
	if err := setListenerOptions(fd, family, sotype, o); err != nil {
		unix.Close(fd)
		return -1, err
	}
	if err := rawBind(fd, sa); err != nil {
		unix.Close(fd)
		return -1, os.NewSyscallError("bind", err)
	}
	if o.reusePortBound {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1); err != nil {
			unix.Close(fd)
			return -1, os.NewSyscallError("setsockopt", err)
		}
	}
	if sotype == unix.SOCK_STREAM {
		if err := unix.Listen(fd, listenBacklog()); err != nil {
			unix.Close(fd)
			return -1, os.NewSyscallError("listen", err)
		}
	}
	return fd, nil
}

func setListenerOptions(fd, family, sotype int, o listenerOptions) error {
	if family != afUnix && sotype == unix.SOCK_STREAM {
		// As Go's net package does: a restarted server can bind at once.
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
			return os.NewSyscallError("setsockopt", err)
		}
	}
	if o.reusePort {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1); err != nil {
			return os.NewSyscallError("setsockopt", err)
		}
	}
	if family == afInet6 {
		v := 0
		if o.v6only {
			v = 1
		}
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, v); err != nil {
			return os.NewSyscallError("setsockopt", err)
		}
	}
	if sotype == unix.SOCK_DGRAM && family != afUnix {
		// Let a UDP socket send to broadcast addresses, as Go's does.
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_BROADCAST, 1)
	}
	return nil
}

// rawBind binds fd to sa. Bind is a set-up call, so it goes straight to the kernel.
func rawBind(fd int, sa *poller.Sockaddr) error {
	if errno := bindRaw(fd, sa); errno != 0 {
		return errno
	}
	return nil
}

// setNoDelay turns Nagle's algorithm off, as Go's net package does for every TCP
// connection: replies go out at once instead of waiting for the peer's ACK.
func setNoDelay(fd int) {
	_ = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
}

// setLingerZero makes close(2) reset the connection (RST) instead of an orderly FIN.
func setLingerZero(fd int) error {
	return unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
}

var somaxconn = sync.OnceValue(func() int {
	b, err := os.ReadFile("/proc/sys/net/core/somaxconn")
	if err != nil {
		return unix.SOMAXCONN
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || n <= 0 {
		return unix.SOMAXCONN
	}
	return n
})

// listenBacklog is the kernel's limit, as Go's net package uses: the listen queue is
// as long as the system allows, so a burst of connections is not refused.
func listenBacklog() int { return somaxconn() }

// sockname and peername return a socket's local and remote addresses in raw form.
func sockname(fd int, sa *poller.Sockaddr) error {
	return getname(unix.SYS_GETSOCKNAME, fd, sa)
}

func peername(fd int, sa *poller.Sockaddr) error {
	return getname(unix.SYS_GETPEERNAME, fd, sa)
}

func closeFd(fd int) error { return unix.Close(fd) }

func unlinkPath(path string) { _ = unix.Unlink(path) }

// Raw sockaddr encoding. The layouts are the kernel's struct sockaddr_in,
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
		sa.Len = unix.SizeofSockaddrInet4
		return
	}
	a := ip.As16()
	copy(sa.Raw[8:24], a[:])
	if z := ip.Zone(); z != "" {
		if ifi, err := net.InterfaceByName(z); err == nil {
			binary.NativeEndian.PutUint32(sa.Raw[24:28], uint32(ifi.Index))
		} else if n, err := strconv.Atoi(z); err == nil {
			binary.NativeEndian.PutUint32(sa.Raw[24:28], uint32(n))
		}
	}
	sa.Len = unix.SizeofSockaddrInet6
}

// putUnix writes a sockaddr_un for path; a leading '@' names an abstract socket.
func putUnix(sa *poller.Sockaddr, path string) error {
	*sa = poller.Sockaddr{}
	const max = len(unix.RawSockaddrUnix{}.Path)
	if len(path) == 0 || len(path) >= max {
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

func zoneName(index int) string {
	if ifi, err := net.InterfaceByIndex(index); err == nil {
		return ifi.Name
	}
	return strconv.Itoa(index)
}

// unixPath decodes an AF_UNIX sockaddr's path ("" for an unnamed socket).
func unixPath(sa *poller.Sockaddr) string {
	n := int(sa.Len) - 2
	if n <= 0 {
		return ""
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

// bindRaw calls bind(2) with a raw sockaddr.
func bindRaw(fd int, sa *poller.Sockaddr) syscall.Errno {
	// SAFETY: sa.Raw is valid memory of sa.Len ≤ 128 bytes for the duration of the
	// call; the kernel copies it before returning.
	_, _, errno := unix.Syscall(unix.SYS_BIND, uintptr(fd), uintptr(unsafe.Pointer(&sa.Raw[0])), uintptr(sa.Len))
	return errno
}

// getname calls getsockname(2) or getpeername(2) into sa.
func getname(trap uintptr, fd int, sa *poller.Sockaddr) error {
	*sa = poller.Sockaddr{Len: uint32(len(sa.Raw))}
	// SAFETY: the kernel writes at most sa.Len bytes into sa.Raw and the new length
	// into sa.Len during the call; both live in sa, which the caller holds.
	_, _, errno := unix.RawSyscall(trap, uintptr(fd), uintptr(unsafe.Pointer(&sa.Raw[0])), uintptr(unsafe.Pointer(&sa.Len)))
	if errno != 0 {
		return errno
	}
	return nil
}

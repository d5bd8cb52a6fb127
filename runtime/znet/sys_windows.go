package znet

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/zokio/zokio/poller"
)

// The system layer on Windows: sockets are Winsock handles, created overlapped so that
// the IOCP driver can associate them with its completion port on their first op (the
// driver does that, and the AcceptEx and ConnectEx context updates). A descriptor in
// this package is the handle's value as an int. Everything else reaches the kernel
// through the runtime's loops, as on Linux.

const supported = true

// Errnos the portable code compares completions against: the IOCP driver reports
// the contract's errnos (ECANCELED, ENOBUFS) and those Linux and Windows share
// (ECONNABORTED, ENOMEM, EOPNOTSUPP) as syscall's portable values, and passes others
// through as Windows reported them (WSAEMFILE).
const (
	eCanceled  = syscall.ECANCELED
	eNoBufs    = syscall.ENOBUFS
	eConnAbort = syscall.ECONNABORTED
	eIntr      = syscall.EINTR
	eMFile     = windows.WSAEMFILE
	eNFile     = syscall.ENFILE
	eNoMem     = syscall.ENOMEM
	eOpNotSupp = syscall.EOPNOTSUPP
)

// streamSendFlags are NetConn.Write's send flags: none. Winsock raises no SIGPIPE and
// completes an overlapped send only when all of it is sent, and WSASend takes no
// MSG_WAITALL; Go's net passes no flag either.
const streamSendFlags = 0

const sockFlags = 0

const (
	sockStream = windows.SOCK_STREAM
	sockDgram  = windows.SOCK_DGRAM

	afInet  = windows.AF_INET
	afInet6 = windows.AF_INET6
	afUnix  = windows.AF_UNIX
)

// haveReusePort is false: Windows has no SO_REUSEPORT (its SO_REUSEADDR lets a socket
// take over a port another one is bound to, which is not the same thing), so a
// Server accepts on one socket and hands connections to the loops in turn.
const haveReusePort = false

// dualStack: an AF_INET6 socket with IPV6_V6ONLY off also takes IPv4 peers.
const dualStack = true

// errNoReusePort is what a Server asked for AcceptReusePort reports here.
var errNoReusePort = fmt.Errorf("znet: no SO_REUSEPORT on Windows: %w", errors.ErrUnsupported)

// Names of the system calls in errors, as Go's net package names them on Windows.
const (
	sysConnect  = "connectex"
	sysAccept   = "acceptex"
	sysRead     = "wsarecv"
	sysWrite    = "wsasend"
	sysRecv     = "wsarecv"
	sysSend     = "wsasend"
	sysRecvmsg  = "wsarecvmsg"
	sysSendmsg  = "wsasendmsg"
	sysShutdown = "shutdown"
)

// hostErrno turns a completion's errno back into the Winsock error Go's net wraps on
// Windows: the IOCP driver reports the errnos that Linux and Windows share as
// syscall's portable values (so that one op means the same on every driver), while
// net.Conn users on Windows compare with the WSA codes, as they do for Go's own
// connections.
func hostErrno(e syscall.Errno) syscall.Errno {
	if w, ok := wsaErrnos[e]; ok {
		return w
	}
	return e
}

var wsaErrnos = map[syscall.Errno]syscall.Errno{
	syscall.ECONNRESET:    windows.WSAECONNRESET,
	syscall.ECONNREFUSED:  windows.WSAECONNREFUSED,
	syscall.ECONNABORTED:  windows.WSAECONNABORTED,
	syscall.EPIPE:         windows.WSAESHUTDOWN,
	syscall.ENOTCONN:      windows.WSAENOTCONN,
	syscall.ENOTSOCK:      windows.WSAENOTSOCK,
	syscall.EADDRINUSE:    windows.WSAEADDRINUSE,
	syscall.EADDRNOTAVAIL: windows.WSAEADDRNOTAVAIL,
	syscall.ETIMEDOUT:     windows.WSAETIMEDOUT,
	syscall.ENETUNREACH:   windows.WSAENETUNREACH,
	syscall.EHOSTUNREACH:  windows.WSAEHOSTUNREACH,
	syscall.EMSGSIZE:      windows.WSAEMSGSIZE,
	syscall.EAFNOSUPPORT:  windows.WSAEAFNOSUPPORT,
}

func handle(fd int) windows.Handle { return windows.Handle(uintptr(fd)) }

// newSocket creates an overlapped socket that child processes do not inherit.
func newSocket(family, sotype int) (int, error) {
	h, err := windows.WSASocket(int32(family), int32(sotype), 0, nil, 0,
		windows.WSA_FLAG_OVERLAPPED|windows.WSA_FLAG_NO_HANDLE_INHERIT)
	if err != nil {
		return -1, os.NewSyscallError("wsasocket", err)
	}
	if sotype == sockDgram && family != afUnix {
		if err := setUDPResets(h); err != nil {
			windows.Closesocket(h)
			return -1, err
		}
	}
	return int(h), nil
}

// setUDPResets turns off the two ways Windows fails a later receive on a UDP socket
// because an earlier send drew an ICMP error (port unreachable, TTL expired), as Go's
// net does. Wine rejects SIO_UDP_NETRESET with WSAEOPNOTSUPP: the socket works without
// it, so that refusal is not an error (../shared/PLATFORMS.md).
func setUDPResets(h windows.Handle) error {
	for _, code := range []uint32{windows.SIO_UDP_CONNRESET, windows.SIO_UDP_NETRESET} {
		off := uint32(0)
		var n uint32
		err := windows.WSAIoctl(h, code, (*byte)(unsafe.Pointer(&off)), uint32(unsafe.Sizeof(off)), nil, 0, &n, nil, 0)
		if err != nil && !(code == windows.SIO_UDP_NETRESET && errors.Is(err, windows.WSAEOPNOTSUPP)) {
			return os.NewSyscallError("wsaioctl", err)
		}
	}
	return nil
}

// listenerOptions are the socket options of a listening socket.
type listenerOptions struct {
	reusePort      bool // refused: see haveReusePort
	reusePortBound bool // refused likewise
	v6only         bool // for AF_INET6: refuse IPv4-mapped peers ("tcp6", "udp6")
	// control, if set, runs on the socket after its options, before bind (a
	// ListenConfig's or a Config's Control hook).
	control func(fd int) error
}

// bindSocket creates a socket of the family of sa, sets its options, binds it and,
// for stream sockets, listens. It closes the socket on failure.
func bindSocket(sotype int, sa *poller.Sockaddr, o listenerOptions) (int, error) {
	if o.reusePort || o.reusePortBound {
		return -1, errNoReusePort
	}
	family := int(rawFamily(sa))
	fd, err := newSocket(family, sotype)
	if err != nil {
		return -1, err
	}
	h := handle(fd)
	if err := setListenerOptions(h, family, sotype, o); err != nil {
		windows.Closesocket(h)
		return -1, err
	}
	if o.control != nil {
		if err := o.control(fd); err != nil {
			windows.Closesocket(h)
			return -1, err
		}
	}
	if err := rawBind(h, sa); err != nil {
		windows.Closesocket(h)
		return -1, os.NewSyscallError("bind", err)
	}
	if sotype == sockStream {
		if err := windows.Listen(h, listenBacklog()); err != nil {
			windows.Closesocket(h)
			return -1, os.NewSyscallError("listen", err)
		}
	}
	return fd, nil
}

// setListenerOptions sets what Go's net sets on Windows. Unlike on Linux there is no
// SO_REUSEADDR: Windows reuses a recently closed port by itself, and the option would
// let this socket take a port that another one is bound to.
func setListenerOptions(h windows.Handle, family, sotype int, o listenerOptions) error {
	if family == afInet6 {
		// Windows defaults to IPV6_V6ONLY on, so a dual-stack socket must say so.
		v := 0
		if o.v6only {
			v = 1
		}
		if err := windows.SetsockoptInt(h, windows.IPPROTO_IPV6, windows.IPV6_V6ONLY, v); err != nil {
			return os.NewSyscallError("setsockopt", err)
		}
	}
	if sotype == sockDgram && family != afUnix {
		// Let a UDP socket send to broadcast addresses, as Go's does.
		_ = windows.SetsockoptInt(h, windows.SOL_SOCKET, windows.SO_BROADCAST, 1)
	}
	return nil
}

// setNoDelay turns Nagle's algorithm off, as Go's net package does for every TCP
// connection.
func setNoDelay(fd int) {
	_ = windows.SetsockoptInt(handle(fd), windows.IPPROTO_TCP, windows.TCP_NODELAY, 1)
}

// setLingerZero makes closesocket reset the connection (RST) instead of an orderly FIN.
func setLingerZero(fd int) error {
	return windows.SetsockoptLinger(handle(fd), windows.SOL_SOCKET, windows.SO_LINGER, &windows.Linger{Onoff: 1, Linger: 0})
}

// listenBacklog is SOMAXCONN, which Winsock reads as "as long as the system allows".
func listenBacklog() int { return windows.SOMAXCONN }

func closeFd(fd int) error { return windows.Closesocket(handle(fd)) }

func unlinkPath(path string) { _ = os.Remove(path) }

// Winsock's bind, getsockname and getpeername, called with the raw sockaddr so that
// addresses keep the one encoding of sockaddr.go. x/sys/windows only offers them
// through its own Sockaddr types.
var (
	modws2_32       = windows.NewLazySystemDLL("ws2_32.dll")
	procBind        = modws2_32.NewProc("bind")
	procGetsockname = modws2_32.NewProc("getsockname")
	procGetpeername = modws2_32.NewProc("getpeername")
)

// failed reports a Winsock call's SOCKET_ERROR: the C int -1, of which only the low
// 32 bits of the return register are defined.
func failed(r uintptr) bool { return int32(r) == -1 }

// rawBind binds h to sa.
func rawBind(h windows.Handle, sa *poller.Sockaddr) error {
	if err := procBind.Find(); err != nil {
		return err
	}
	// SAFETY: sa.Raw is valid memory of sa.Len ≤ 128 bytes for the duration of the
	// call; Winsock copies it before returning.
	r, _, e := syscall.SyscallN(procBind.Addr(), uintptr(h), uintptr(unsafe.Pointer(&sa.Raw[0])), uintptr(sa.Len))
	if failed(r) {
		return wsaErr(e)
	}
	return nil
}

// sockname and peername return a socket's local and remote addresses in raw form.
func sockname(fd int, sa *poller.Sockaddr) error { return getname(procGetsockname, fd, sa) }

func peername(fd int, sa *poller.Sockaddr) error { return getname(procGetpeername, fd, sa) }

func getname(proc *windows.LazyProc, fd int, sa *poller.Sockaddr) error {
	if err := proc.Find(); err != nil {
		return err
	}
	*sa = poller.Sockaddr{}
	n := int32(len(sa.Raw))
	// SAFETY: Winsock writes at most n bytes into sa.Raw and the new length into n
	// during the call; both outlive it.
	r, _, e := syscall.SyscallN(proc.Addr(), uintptr(handle(fd)), uintptr(unsafe.Pointer(&sa.Raw[0])), uintptr(unsafe.Pointer(&n)))
	if failed(r) {
		return wsaErr(e)
	}
	sa.Len = uint32(n)
	return nil
}

// wsaErr is the error of a failed Winsock call (WSAGetLastError, which is the
// thread's last error), never a nil error for a failure.
func wsaErr(e syscall.Errno) error {
	if e == 0 {
		return syscall.EINVAL
	}
	return e
}

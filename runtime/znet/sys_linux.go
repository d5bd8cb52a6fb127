package znet

import (
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

// streamSendFlags are NetConn.Write's send flags: EPIPE instead of SIGPIPE, and the
// whole chunk or an error.
const streamSendFlags = poller.MsgNoSignal | poller.MsgWaitAll

const sockFlags = unix.SOCK_NONBLOCK | unix.SOCK_CLOEXEC

// family and type of a socket, as the kernel names them.
const (
	sockStream = unix.SOCK_STREAM
	sockDgram  = unix.SOCK_DGRAM

	afInet  = unix.AF_INET
	afInet6 = unix.AF_INET6
	afUnix  = unix.AF_UNIX
)

// haveReusePort: Linux has SO_REUSEPORT, so a Server can give every loop its own
// listening socket.
const haveReusePort = true

// Names of the system calls in errors, as Go's net package names them on Linux.
const (
	sysConnect  = "connect"
	sysAccept   = "accept"
	sysRead     = "read"
	sysWrite    = "write"
	sysRecv     = "recv"
	sysSend     = "send"
	sysRecvmsg  = "recvmsg"
	sysSendmsg  = "sendmsg"
	sysShutdown = "shutdown"
)

// hostErrno is the errno as Go's net reports it here: the kernel's own.
func hostErrno(e syscall.Errno) syscall.Errno { return e }

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
	// control, if set, runs on the socket after its options, before bind (a
	// ListenConfig's or a Config's Control hook).
	control func(fd int) error
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
	if o.control != nil {
		if err := o.control(fd); err != nil {
			unix.Close(fd)
			return -1, err
		}
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

// The shared sockaddr layouts (sockaddr.go) are the kernel's.
var (
	_ [unix.SizeofSockaddrInet4 - sizeofSockaddrInet4]byte
	_ [sizeofSockaddrInet4 - unix.SizeofSockaddrInet4]byte
	_ [unix.SizeofSockaddrInet6 - sizeofSockaddrInet6]byte
	_ [sizeofSockaddrInet6 - unix.SizeofSockaddrInet6]byte
	_ [len(unix.RawSockaddrUnix{}.Path) - sizeofUnixPath]byte
	_ [sizeofUnixPath - len(unix.RawSockaddrUnix{}.Path)]byte
)

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

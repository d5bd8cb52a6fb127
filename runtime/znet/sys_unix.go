//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package znet

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/zokio/zokio/poller"
)

// The system layer: socket creation, socket options and the translation between
// net addresses and the kernel's raw sockaddr form (poller.Sockaddr). Everything
// else in the package reaches the kernel through the runtime's loops and the
// poller.Driver contract; only set-up and address queries call the kernel directly.
//
// This file is the part Linux, macOS and the BSDs share. What differs is in small
// per-system files: socket creation and the no-SIGPIPE mechanism (sys_linux.go,
// sys_darwin.go, sys_sockbsd.go), SO_REUSEPORT's semantics (reuseport_*.go), bind and
// the address queries (raw calls on Linux, x/sys's libc-backed functions on the
// BSDs: sys_linux.go, sys_bsd.go), the listen backlog, and the sockaddr layout
// (sockaddr.go, sockaddr_bsd.go).

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

// sockFlags are OpAccept's flags: the accepted socket is non-blocking and
// close-on-exec (the kqueue driver applies them with fcntl where accept4 is missing).
const sockFlags = poller.SockNonblock | poller.SockCloexec

// family and type of a socket, as the kernel names them.
const (
	sockStream = unix.SOCK_STREAM
	sockDgram  = unix.SOCK_DGRAM

	afInet  = unix.AF_INET
	afInet6 = unix.AF_INET6
	afUnix  = unix.AF_UNIX
)

// Names of the system calls in errors, as Go's net package names them on Linux and
// the BSDs.
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
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, soReusePort, 1); err != nil {
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
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, soReusePort, 1); err != nil {
			return os.NewSyscallError("setsockopt", err)
		}
	}
	if family == afInet6 {
		v := 0
		if o.v6only {
			v = 1
		}
		// Turning IPV6_V6ONLY off fails where the system admits no dual-stack
		// sockets (OpenBSD): the socket then stays IPv6-only, as Go's net leaves it.
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, v); err != nil && v == 1 {
			return os.NewSyscallError("setsockopt", err)
		}
	}
	if sotype == unix.SOCK_DGRAM && family != afUnix {
		// Let a UDP socket send to broadcast addresses, as Go's does.
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_BROADCAST, 1)
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

// listenBacklog is the kernel's limit, as Go's net package uses: the listen queue is
// as long as the system allows, so a burst of connections is not refused.
func listenBacklog() int { return somaxconn() }

func closeFd(fd int) error { return unix.Close(fd) }

func unlinkPath(path string) { _ = unix.Unlink(path) }

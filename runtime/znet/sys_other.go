//go:build !linux && !windows && !darwin && !dragonfly && !freebsd && !netbsd && !openbsd

package znet

import (
	"net/netip"
	"syscall"

	"github.com/zokio/zokio/poller"
)

// Stubs for platforms without an implementation (Linux, macOS, the BSDs and Windows
// have one): every entry point (Serve, Listen, Dial, ListenPacket) returns an error
// wrapping errors.ErrUnsupported before reaching these, which exist so that the
// package builds everywhere.

const supported = false

const (
	eCanceled  = syscall.ECANCELED
	eNoBufs    = syscall.ENOBUFS
	eConnAbort = syscall.ECONNABORTED
	eIntr      = syscall.EINTR
	eMFile     = syscall.EMFILE
	eNFile     = syscall.ENFILE
	eNoMem     = syscall.ENOMEM
	eOpNotSupp = syscall.EOPNOTSUPP
)

const (
	sockFlags  = 0
	sockStream = 1
	sockDgram  = 2
	afInet     = 2
	afInet6    = 10
	afUnix     = 1
)

// streamSendFlags are NetConn.Write's send flags (never used here).
const streamSendFlags = 0

const (
	haveReusePort = false
	dualStack     = false
)

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

type listenerOptions struct {
	reusePort      bool
	reusePortBound bool
	v6only         bool
	control        func(fd int) error
}

func newSocket(family, sotype int) (int, error) { return -1, errUnsupported }

func bindSocket(sotype int, sa *poller.Sockaddr, o listenerOptions) (int, error) {
	return -1, errUnsupported
}

func hostErrno(e syscall.Errno) syscall.Errno { return e }

func setNoDelay(fd int)                                          {}
func setLingerZero(fd int) error                                 { return errUnsupported }
func sockname(fd int, sa *poller.Sockaddr) error                 { return errUnsupported }
func peername(fd int, sa *poller.Sockaddr) error                 { return errUnsupported }
func closeFd(fd int) error                                       { return errUnsupported }
func unlinkPath(path string)                                     {}
func rawFamily(sa *poller.Sockaddr) uint16                       { return 0 }
func putInet(sa *poller.Sockaddr, ap netip.AddrPort, family int) {}
func putUnix(sa *poller.Sockaddr, path string) error             { return errUnsupported }
func inetAddrPort(sa *poller.Sockaddr) (netip.AddrPort, bool) {
	return netip.AddrPort{}, false
}
func unixPath(sa *poller.Sockaddr) string { return "" }

//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package znet

import (
	goruntime "runtime"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/zokio/zokio/poller"
)

// The part of the system layer that macOS and the BSDs share (beside sys_unix.go).
// Bind and the address queries go through x/sys's functions, which call libc on
// macOS and OpenBSD (the only way those systems allow); they are set-up calls, so
// converting the raw address to x/sys's form costs nothing that matters.

// dualStack: an AF_INET6 socket with IPV6_V6ONLY off also takes IPv4 peers, except
// on OpenBSD, which has no IPv4-mapped addresses: a wildcard "tcp" or "udp" listener
// is IPv4 there, as Go's net makes it.
const dualStack = goruntime.GOOS != "openbsd"

// rawBind binds fd to sa.
func rawBind(fd int, sa *poller.Sockaddr) error {
	to, err := host.toSockaddr(sa)
	if err != nil {
		return err
	}
	return unix.Bind(fd, to)
}

// sockname and peername return a socket's local and remote addresses in raw form.
func sockname(fd int, sa *poller.Sockaddr) error {
	from, err := unix.Getsockname(fd)
	if err != nil {
		return err
	}
	return host.fromSockaddr(sa, from)
}

func peername(fd int, sa *poller.Sockaddr) error {
	from, err := unix.Getpeername(fd)
	if err != nil {
		return err
	}
	return host.fromSockaddr(sa, from)
}

// somaxconn is the system's limit of a listen queue, read as Go's net reads it.
var somaxconn = sync.OnceValue(func() int {
	var name string
	switch goruntime.GOOS {
	case "darwin", "dragonfly":
		name = "kern.ipc.somaxconn"
	case "freebsd":
		name = "kern.ipc.soacceptqueue"
	case "openbsd":
		name = "kern.somaxconn"
	}
	if name == "" {
		return unix.SOMAXCONN // NetBSD has no such setting
	}
	n, err := unix.SysctlUint32(name)
	if err != nil || n == 0 {
		return unix.SOMAXCONN
	}
	// The kernels keep the backlog in 16 bits: a larger number would wrap.
	return int(min(n, 1<<16-1))
})

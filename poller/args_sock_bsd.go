//go:build dragonfly || freebsd || netbsd

package poller

import "golang.org/x/sys/unix"

// OpAccept's Arg: flags of the accepted descriptor.
const (
	SockNonblock = unix.SOCK_NONBLOCK // non-blocking
	SockCloexec  = unix.SOCK_CLOEXEC  // closed on exec
)

// OpenDirect is OpOpenat's flag to bypass the page cache.
const OpenDirect = unix.O_DIRECT

package poller

import "golang.org/x/sys/unix"

// OpAccept's Arg: flags of the accepted descriptor.
const (
	SockNonblock = unix.SOCK_NONBLOCK // non-blocking
	SockCloexec  = unix.SOCK_CLOEXEC  // closed on exec
)

// OpenDirect is OpOpenat's flag to bypass the page cache: 0 here, where open has no such
// flag.
const OpenDirect = 0

package poller

// OpAccept's Arg: flags of the accepted descriptor. macOS has no accept4 and no SOCK_
// flags: these are FreeBSD's values, which the kqueue driver applies with fcntl after
// accept (it makes every accepted descriptor non-blocking anyway).
const (
	SockNonblock = 0x20000000 // non-blocking
	SockCloexec  = 0x10000000 // closed on exec
)

// OpenDirect is OpOpenat's flag to bypass the page cache: 0 here, where open has no such
// flag (fcntl's F_NOCACHE after the open is macOS's way).
const OpenDirect = 0

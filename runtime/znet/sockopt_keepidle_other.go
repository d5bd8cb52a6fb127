//go:build unix && !linux && !freebsd && !netbsd && !dragonfly && !darwin

package znet

// OpenBSD and the other systems here have no per-socket keep-alive timing, as Go's
// net finds: the setters turn SO_KEEPALIVE on and leave the timing to the system.
const (
	tcpKeepIdle  = -1
	tcpKeepIntvl = -1
	tcpKeepCnt   = -1
	haveKeepTune = false
)

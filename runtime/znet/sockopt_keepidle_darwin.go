package znet

import "golang.org/x/sys/unix"

// tcpKeepIdle: macOS names the idle time before the first probe TCP_KEEPALIVE.
const (
	tcpKeepIdle  = unix.TCP_KEEPALIVE
	tcpKeepIntvl = unix.TCP_KEEPINTVL
	tcpKeepCnt   = unix.TCP_KEEPCNT
	haveKeepTune = true
)

//go:build linux || freebsd || netbsd || dragonfly

package znet

import "golang.org/x/sys/unix"

// tcpKeepIdle is the option for the idle time before the first keep-alive probe.
const (
	tcpKeepIdle  = unix.TCP_KEEPIDLE
	tcpKeepIntvl = unix.TCP_KEEPINTVL
	tcpKeepCnt   = unix.TCP_KEEPCNT
	haveKeepTune = true
)

//go:build freebsd || openbsd || dragonfly || aix

package poller

import "syscall"

// ETIME is the error an expired OpTimeout, or an op whose Timeout passed, completes
// with. These systems have no ETIME; ETIMEDOUT stands in for it.
const ETIME = syscall.ETIMEDOUT

//go:build !(freebsd || openbsd || dragonfly || aix)

package poller

import "syscall"

// ETIME is the error an expired OpTimeout, or an op whose Timeout passed, completes
// with: the host's ETIME, which is what io_uring reports.
const ETIME = syscall.ETIME

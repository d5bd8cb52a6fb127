//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package testkit

import (
	"testing"

	"golang.org/x/sys/unix"

	"github.com/zokio/zokio/runtime/driver"
)

// candidates are the drivers Drivers tries: kqueue is the only one here.
var candidates = []driver.Kind{driver.Kqueue}

// fdProbeLimit bounds the descriptor numbers FDCount probes: a test process holds
// far fewer, and the soft limit can be in the millions.
const fdProbeLimit = 1 << 16

// FDCount is the number of descriptors the process has open. These systems have no
// /proc/self/fd (FreeBSD's /dev/fd shows 0 to 2 without fdescfs, OpenBSD's holds
// fixed nodes), so it asks each number below the soft limit with fcntl(F_GETFD).
func FDCount(tb testing.TB) int {
	tb.Helper()
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		tb.Fatal(err)
	}
	n := 0
	for fd := range int(min(lim.Cur, fdProbeLimit)) {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == nil {
			n++
		}
	}
	return n
}

// Wine reports whether the process runs under Wine: never, off Windows.
func Wine() bool { return false }

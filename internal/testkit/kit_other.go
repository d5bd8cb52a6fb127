//go:build !windows && !darwin && !dragonfly && !freebsd && !netbsd && !openbsd

package testkit

import (
	"os"
	"testing"

	"github.com/zokio/zokio/runtime/driver"
)

// candidates are the drivers Drivers tries, in order: Linux's, then the kqueue of the
// BSDs and macOS (Choose refuses those a system lacks).
var candidates = []driver.Kind{driver.Uring, driver.Epoll, driver.Kqueue}

// FDCount is the number of descriptors the process has open.
func FDCount(tb testing.TB) int {
	tb.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		tb.Fatal(err)
	}
	return len(ents)
}

// Wine reports whether the process runs under Wine: never, off Windows.
func Wine() bool { return false }

package testkit

import (
	"os"
	goruntime "runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/zokio/zokio/runtime/driver"
)

// RequireUringEnv, when set, makes Drivers fail the test if io_uring is unavailable:
// on a host that has it (this project's CI), a silent fallback is a bug.
const RequireUringEnv = "ZOKIO_REQUIRE_URING"

// Drivers lists the drivers this host has, io_uring first (on Linux); it skips the
// test where there is none.
func Drivers(tb testing.TB) []driver.Kind {
	tb.Helper()
	var ks []driver.Kind
	for _, k := range candidates {
		if _, err := driver.Choose(k); err == nil {
			ks = append(ks, k)
		} else if k == driver.Uring && os.Getenv(RequireUringEnv) != "" {
			tb.Fatalf("io_uring required on this host but unavailable: %v", err)
		}
	}
	if len(ks) == 0 {
		tb.Skip("no driver on this platform")
	}
	return ks
}

// GCStorm runs the collector back to back with GOGC at 1 until stop (or the end of
// the test): a buffer the kernel uses that Go does not keep alive would be freed and
// reused (docs/RELIABILITY.md trap 1), and stacks get shrunk and moved. stop returns the
// number of collections forced; calling it again does nothing more.
func GCStorm(tb testing.TB) (stop func() int64) {
	old := debug.SetGCPercent(1)
	quit := make(chan struct{})
	done := make(chan struct{})
	var n atomic.Int64
	go func() {
		defer close(done)
		for {
			select {
			case <-quit:
				return
			default:
				goruntime.GC()
				n.Add(1)
			}
		}
	}()
	var once sync.Once
	stop = func() int64 {
		once.Do(func() {
			close(quit)
			<-done
			debug.SetGCPercent(old)
		})
		return n.Load()
	}
	tb.Cleanup(func() { stop() })
	return stop
}

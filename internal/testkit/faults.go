package testkit

import (
	"fmt"
	"os"
	"sync/atomic"
	"testing"

	"github.com/zokio/zokio/internal/faultdriver"
	"github.com/zokio/zokio/internal/testhook"
	"github.com/zokio/zokio/poller"
)

// faults is the schedule the test binary's drivers run under, nil without one.
var faults atomic.Pointer[faultdriver.Config]

// WithFaults reads faultdriver.EnvVar (ZOKIO_FAULTS=seed:N,rate:R,...) and, when it
// is set, wraps every driver that package runtime/driver opens in a fault-injecting
// faultdriver.Driver (the n-th driver opened gets seed N+n). Call it in TestMain, as
// goleak.VerifyTestMain(testkit.WithFaults(m)); the returned value runs the tests and
// then prints how many faults were injected. A malformed value fails the binary.
func WithFaults(m *testing.M) interface{ Run() int } {
	v := os.Getenv(faultdriver.EnvVar)
	if v == "" {
		return m
	}
	cfg, err := faultdriver.Parse(v)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	faults.Store(&cfg)
	var n atomic.Uint64
	testhook.SetDriverWrapper(func(d poller.Driver) poller.Driver {
		c := cfg
		c.Seed += n.Add(1) - 1
		return faultdriver.New(d, c)
	})
	return faultRun{m, cfg}
}

type faultRun struct {
	m   *testing.M
	cfg faultdriver.Config
}

func (f faultRun) Run() int {
	code := f.m.Run()
	c := faultdriver.Totals()
	fmt.Fprintf(os.Stderr, "testkit: drivers ran under %s=%v: %d faults injected (short %d, delayed %d, cancelled %d, errno %d, refused %d)\n",
		faultdriver.EnvVar, f.cfg, c.Total(), c.Short, c.Delayed, c.Cancelled, c.Errno, c.SubmitErr)
	return code
}

// Faults returns the fault schedule the test binary runs under, if any.
func Faults() (faultdriver.Config, bool) {
	if c := faults.Load(); c != nil {
		return *c, true
	}
	return faultdriver.Config{}, false
}

// SkipUnderFaults skips a test that cannot hold while faults are injected (it counts
// system calls or completions, or needs the kernel's exact result); reason says why.
func SkipUnderFaults(tb testing.TB, reason string) {
	tb.Helper()
	if c, ok := Faults(); ok {
		tb.Skipf("under %s=%v: %s", faultdriver.EnvVar, c, reason)
	}
}

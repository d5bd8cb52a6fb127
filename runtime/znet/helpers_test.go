package znet

import (
	"context"
	"fmt"
	"os"
	goruntime "runtime"
	"testing"
	"time"

	"github.com/zokio/zokio/internal/testhook"
	"github.com/zokio/zokio/internal/testkit"
	"github.com/zokio/zokio/poller"
	"github.com/zokio/zokio/runtime"
	"github.com/zokio/zokio/runtime/driver"
)

// testDeadline bounds every wait in the tests: a hang fails instead of stalling.
const testDeadline = 30 * time.Second

// forEachDriver runs fn as a subtest per driver, with a runtime of loops loops
// that is closed afterwards, checking that no descriptor outlives the scenario.
func forEachDriver(t *testing.T, loops int, fn func(t *testing.T, rt *runtime.Runtime)) {
	t.Helper()
	for _, k := range testkit.Drivers(t) {
		t.Run(string(k), func(t *testing.T) {
			rt := newRuntime(t, k, loops)
			fn(t, rt)
		})
	}
}

// newRuntime starts a runtime on driver k; cleanup closes it and compares the
// process's descriptors with those before. ZOKIO_TEST_UNLOCKED=1 runs its loops
// unlocked (runtime.Options.UnlockedLoops), so that the suite covers that mode too.
func newRuntime(t testing.TB, k driver.Kind, loops int) *runtime.Runtime {
	t.Helper()
	return newRuntimeWrapped(t, k, loops, nil)
}

// newRuntimeWrapped is newRuntime with every loop's driver passed through wrap (the
// test hook, set only while runtime.New opens them), unless wrap is nil.
func newRuntimeWrapped(t testing.TB, k driver.Kind, loops int, wrap func(poller.Driver) poller.Driver) *runtime.Runtime {
	t.Helper()
	before := testkit.FDCount(t)
	if wrap != nil {
		testhook.SetDriverWrapper(wrap)
	}
	rt, err := runtime.New(runtime.Options{Loops: loops, Driver: k, NoPin: true,
		UnlockedLoops: os.Getenv("ZOKIO_TEST_UNLOCKED") == "1"})
	if wrap != nil {
		testhook.SetDriverWrapper(nil)
	}
	if err != nil {
		t.Fatalf("runtime.New(%s): %v", k, err)
	}
	live.Track(t, rt)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
		defer cancel()
		if err := rt.Close(ctx); err != nil {
			t.Errorf("runtime Close: %v", err)
		}
		waitFds(t, before)
	})
	return rt
}

// live tracks the runtimes of the running tests, so that a test that times out
// shows what their loops still hold.
var live testkit.Registry

// hung is the evidence a timed-out wait prints: every live runtime's in-flight
// table, then every goroutine's stack.
func hung() string { return live.Report() }

// waitFds checks that the process has at most want descriptors open. Every close
// in the package completes before the call that asked for it returns (or before
// OnClose), and the tests' Go clients are closed with no reader left, so a plain
// check suffices: no polling.
func waitFds(t testing.TB, want int) {
	t.Helper()
	if n := testkit.FDCount(t); n > want {
		t.Errorf("descriptor leak: %d open, want at most %d", n, want)
	}
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
	t.Cleanup(cancel)
	return ctx
}

// maxRcvBuf is the largest TCP receive buffer the kernel grows a socket to.
func maxRcvBuf() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/tcp_rmem")
	if err != nil {
		return 6 << 20
	}
	var lo, def, hi int
	if _, err := fmt.Sscan(string(b), &lo, &def, &hi); err != nil {
		return 6 << 20
	}
	return hi
}

// requireUnix skips a test where the system has no Unix sockets: Wine 8 refuses
// AF_UNIX with WSAEAFNOSUPPORT (../shared/PLATFORMS.md), though Windows 10 has it.
func requireUnix(t testing.TB) {
	t.Helper()
	if err := unixSockets(); err != nil {
		t.Skipf("no Unix sockets here (Wine 8 has no AF_UNIX): %v", err)
	}
}

// unixSockets reports why this system cannot make Unix sockets, or nil.
func unixSockets() error {
	fd, err := newSocket(afUnix, sockStream)
	if err != nil {
		return err
	}
	return closeFd(fd)
}

// abstractUnix: only Linux has the abstract namespace for Unix sockets ("@name").
const abstractUnix = goruntime.GOOS == "linux"

package zfile

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/zokio/zokio/internal/testhook"
	"github.com/zokio/zokio/internal/testkit"
	"github.com/zokio/zokio/poller"
	"github.com/zokio/zokio/runtime"
	"github.com/zokio/zokio/runtime/driver"
)

// testDeadline bounds every wait in the tests; waits are on events, never on sleeps.
const testDeadline = 30 * time.Second

// env is one subtest's world: a runtime on one driver and a temporary directory.
type env struct {
	rt   *runtime.Runtime
	kind driver.Kind
	dir  string
}

func (e *env) path(name string) string { return filepath.Join(e.dir, name) }

func (e *env) uring() bool { return e.kind == driver.Uring }

// live tracks the runtimes of the running tests, so that a test that times out
// shows what their loops still hold.
var live testkit.Registry

// hung is the evidence a timed-out wait prints: every live runtime's in-flight
// table, then every goroutine's stack.
func hung() string { return live.Report() }

// forEachDriver runs fn once per driver with a fresh runtime of n loops. Afterwards it
// checks that closing the runtime gave back every descriptor.
func forEachDriver(t *testing.T, n int, fn func(t *testing.T, e *env)) {
	forEachDriverWrapped(t, n, nil, fn)
}

// forEachDriverWrapped is forEachDriver with each runtime's drivers passed through
// wrap (the test hook, set only while runtime.New opens them), unless wrap is nil.
func forEachDriverWrapped(t *testing.T, n int, wrap func(poller.Driver) poller.Driver, fn func(t *testing.T, e *env)) {
	for _, k := range testkit.Drivers(t) {
		t.Run(string(k), func(t *testing.T) {
			fds := testkit.FDCount(t)
			if wrap != nil {
				testhook.SetDriverWrapper(wrap)
			}
			rt, err := runtime.New(runtime.Options{Loops: n, Driver: k})
			if wrap != nil {
				testhook.SetDriverWrapper(nil)
			}
			if err != nil {
				t.Fatal(err)
			}
			live.Track(t, rt)
			t.Cleanup(func() {
				ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
				defer cancel()
				if err := rt.Close(ctx); err != nil {
					t.Errorf("runtime Close: %v", err)
				}
				if now := testkit.FDCount(t); now > fds {
					t.Errorf("descriptor leak: %d before the runtime, %d after it closed", fds, now)
				}
			})
			fn(t, &env{rt: rt, kind: k, dir: testkit.TempDir(t)})
		})
	}
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
	t.Cleanup(cancel)
	return ctx
}

// writeFile creates name with size bytes of a pattern that depends on the offset.
func writeFile(t testing.TB, name string, size int) []byte {
	t.Helper()
	data := pattern(0, size)
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return data
}

// pattern returns n bytes of the pattern starting at off: byte i is a hash of its
// offset, so a block read from the wrong place or stale memory does not match.
func pattern(off int64, n int) []byte {
	b := make([]byte, n)
	fillPattern(b, off)
	return b
}

func fillPattern(b []byte, off int64) {
	for i := range b {
		x := uint64(off) + uint64(i)
		x ^= x >> 7
		x *= 0x9E3779B97F4A7C15
		b[i] = byte(x >> 56)
	}
}

func mustOpen(t testing.TB, e *env, name string, flag int, o OpenOptions) *File {
	t.Helper()
	f, err := OpenFileWith(ctxT(t), e.rt, name, flag, 0o644, o)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func equal(a, b []byte) bool { return bytes.Equal(a, b) }

// waitFor fails the test if ch does not deliver within the test deadline.
func waitFor[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(testDeadline):
		t.Fatalf("timed out waiting for %s\n%s", what, hung())
		panic("unreachable")
	}
}

// waitInFlight waits until f has n uses in progress. Polling here is in the test, on
// a condition no event announces (ops parked in the kernel), with a deadline.
func waitInFlight(t *testing.T, f *File, n uint64) {
	t.Helper()
	end := time.Now().Add(testDeadline)
	for f.state.Load()&^closedBit < n {
		if time.Now().After(end) {
			t.Fatalf("only %d of %d ops in flight", f.state.Load()&^closedBit, n)
		}
		time.Sleep(time.Millisecond)
	}
}

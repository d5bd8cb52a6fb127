// Package pollertest is the conformance suite for implementations of poller.Driver.
//
// Every driver runs the same scenarios, under the same names, with one call:
//
//	func TestConformance(t *testing.T) {
//		pollertest.Run(t, func(t *testing.T) poller.Driver {
//			d, err := mydriver.New()
//			if err != nil {
//				t.Fatal(err)
//			}
//			return d
//		})
//	}
//
// A scenario skips only when the driver lacks a capability that poller.Features names,
// never because of the system it runs on. Scenarios use real I/O (pipes, socket pairs,
// TCP and UDP on 127.0.0.1, files in a temporary directory), wait on events with
// deadlines, and check that no descriptor leaks.
//
// The scenarios are portable Go: they write op arguments with poller's portable names
// (poller.PollIn, poller.AtFDCWD, poller.OpenCreate, ...), read OpStatx results as
// poller.Statx, and reach the system only through the driver and a small helper layer
// per system (helpers_unix.go for Linux, macOS and the BSDs; helpers_windows.go), which
// makes descriptors and moves bytes outside the driver. On Windows, where there is no
// socketpair and anonymous pipes cannot be polled, a connected TCP pair on 127.0.0.1
// stands in for both.
package pollertest

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zokio/zokio/poller"
)

// NewDriver creates a fresh driver for one scenario. The scenario closes it. It runs on
// the scenario's goroutine, which is the goroutine that uses the driver; drivers that
// bind to an OS thread may lock it there.
type NewDriver func(t *testing.T) poller.Driver

type scenario struct {
	name string
	fn   func(t *testing.T, newDriver NewDriver)
}

var scenarios []scenario

func register(name string, fn func(t *testing.T, newDriver NewDriver)) {
	scenarios = append(scenarios, scenario{name, fn})
}

// Names returns the scenario names in the order Run runs them.
func Names() []string {
	names := make([]string, len(scenarios))
	for i, s := range scenarios {
		names[i] = s.name
	}
	return names
}

// Run runs every scenario as a subtest of t, each with a driver from newDriver, and
// checks after each that the process holds no more descriptors than before.
func Run(t *testing.T, newDriver NewDriver) {
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			// Registered first, so it runs last: after the scenario's own cleanups
			// have closed its driver and descriptors.
			if before := openFDs(); before >= 0 {
				t.Cleanup(func() {
					if t.Failed() || t.Skipped() {
						return
					}
					if after := openFDs(); after > before {
						t.Errorf("leak: %d descriptors and io_uring mappings before, %d after", before, after)
					}
				})
			}
			t.Cleanup(endScenario(t))
			s.fn(t, newDriver)
		})
	}
}

// lastCleanups holds, per running scenario, the cleanups that must run after the
// scenario's own (atEnd).
var lastCleanups struct {
	sync.Mutex
	m map[*testing.T][]func()
}

// endScenario starts t's list of last cleanups and returns the cleanup that runs them,
// last registered first.
func endScenario(t *testing.T) func() {
	lastCleanups.Lock()
	defer lastCleanups.Unlock()
	if lastCleanups.m == nil {
		lastCleanups.m = map[*testing.T][]func(){}
	}
	lastCleanups.m[t] = nil
	return func() {
		lastCleanups.Lock()
		fns := lastCleanups.m[t]
		delete(lastCleanups.m, t)
		lastCleanups.Unlock()
		for i := len(fns) - 1; i >= 0; i-- {
			fns[i]()
		}
	}
}

// atEnd runs f when scenario t ends, after every cleanup the scenario registered
// (closing its descriptors and its driver): for what only works once nothing is open,
// such as removing a directory on Windows. Outside a scenario it is t.Cleanup.
func atEnd(t *testing.T, f func()) {
	lastCleanups.Lock()
	defer lastCleanups.Unlock()
	if fns, ok := lastCleanups.m[t]; ok {
		lastCleanups.m[t] = append(fns, f)
		return
	}
	t.Cleanup(f)
}

// deadline bounds every wait in a scenario; a driver that loses a completion fails the
// scenario instead of hanging the run.
const deadline = 10 * time.Second

// harness wraps the driver under test for one scenario.
type harness struct {
	t      *testing.T
	d      poller.Driver
	closed bool
}

func start(t *testing.T, newDriver NewDriver) *harness {
	t.Helper()
	h := &harness{t: t, d: newDriver(t)}
	t.Cleanup(h.close)
	return h
}

func (h *harness) close() {
	if !h.closed {
		h.closed = true
		if err := h.d.Close(); err != nil {
			h.t.Errorf("Close: %v", err)
		}
	}
}

func (h *harness) features() poller.Features { return h.d.Info().Features }

func (h *harness) require(f poller.Features) {
	h.t.Helper()
	if !h.features().Has(f) {
		h.t.Skipf("driver %s lacks %v", h.d.Info().Name, f&^h.features())
	}
}

func (h *harness) submit(op *poller.Op) {
	h.t.Helper()
	if err := h.d.Submit(op); err != nil {
		h.t.Fatalf("Submit(%v): %v", op.Code, err)
	}
}

// until calls Wait until cond holds, failing the scenario after the deadline.
func (h *harness) until(what string, cond func() bool) {
	h.t.Helper()
	end := time.Now().Add(deadline)
	for !cond() {
		left := time.Until(end)
		if left <= 0 {
			var tab strings.Builder
			poller.DumpInFlight(&tab, h.d)
			h.t.Fatalf("timed out after %v waiting for %s\n%s\n%s", deadline, what, tab.String(), goroutines())
		}
		if _, err := h.d.Wait(left); err != nil {
			h.t.Fatalf("Wait: %v", err)
		}
	}
}

// quiet calls Wait for about d and fails if any completion in ops arrives.
func (h *harness) quiet(d time.Duration, recs ...*rec) {
	h.t.Helper()
	end := time.Now().Add(d)
	for left := d; left > 0; left = time.Until(end) {
		if _, err := h.d.Wait(left); err != nil {
			h.t.Fatalf("Wait: %v", err)
		}
		for _, r := range recs {
			if len(r.got) > 0 {
				h.t.Fatalf("%v completed early: %+v", r.op.Code, r.got[0])
			}
		}
	}
}

// completion is one Done call as the op saw it.
type completion struct {
	Res    int32
	Flags  poller.ResultFlags
	BufID  uint16
	BufOff uint32
}

// data returns the bytes c received into a buffer of g.
func (c completion) data(g poller.BufferGroup) []byte {
	op := poller.Op{Res: c.Res, Result: c.Flags, BufID: c.BufID, BufOff: c.BufOff}
	return op.Received(g)
}

func (c completion) err() error {
	if c.Res < 0 {
		return errnoOf(c.Res)
	}
	return nil
}

// rec is an op that records each of its completions.
type rec struct {
	op    poller.Op
	got   []completion
	final bool
	t     *testing.T
}

func newRec(t *testing.T, op poller.Op) *rec {
	r := &rec{op: op, t: t}
	r.op.Done = r.done
	return r
}

func (r *rec) done(op *poller.Op) {
	if r.final {
		r.t.Errorf("%v completed after its final completion (res %d)", op.Code, op.Res)
	}
	r.got = append(r.got, completion{op.Res, op.Result, op.BufID, op.BufOff})
	if op.Result&poller.ResMore == 0 {
		r.final = true
		if op.InFlight() {
			r.t.Errorf("%v still in flight after its final completion", op.Code)
		}
	}
}

func (r *rec) isFinal() bool { return r.final }

// last returns the final completion, failing unless there was exactly one completion.
func (r *rec) only() completion {
	r.t.Helper()
	if len(r.got) != 1 {
		r.t.Fatalf("%v: %d completions, want exactly 1: %+v", r.op.Code, len(r.got), r.got)
	}
	return r.got[0]
}

// ok returns the result of the op's single completion, failing on an error.
func (r *rec) ok() int {
	r.t.Helper()
	c := r.only()
	if c.Res < 0 {
		r.t.Fatalf("%v failed: %v", r.op.Code, c.err())
	}
	return int(c.Res)
}

func (h *harness) run(r *rec) *rec {
	h.t.Helper()
	h.submit(&r.op)
	h.until(r.op.Code.String()+" completion", r.isFinal)
	return r
}

func wantErrno(t *testing.T, what string, c completion, want ...error) {
	t.Helper()
	got := c.err()
	for _, w := range want {
		if errors.Is(got, w) {
			return
		}
	}
	t.Fatalf("%s: got res %d (%v), want one of %v", what, c.Res, got, want)
}

func goroutines() string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	s := string(buf)
	if i := strings.Index(s, "\n\n"); i > 0 && len(s) > 20000 {
		s = s[:20000] + "\n..."
	}
	return "goroutines:\n" + s
}

func fatalIf(t *testing.T, err error, format string, args ...any) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", fmt.Sprintf(format, args...), err)
	}
}

package main

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/zokio/zokio/numa"
	"github.com/zokio/zokio/runtime/driver"
	"github.com/zokio/zokio/sqpoll"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func runCmd(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return out.String(), errb.String(), code
}

// TestInfoTellsTheTruth checks that info reports the decision the runtime makes.
func TestInfoTellsTheTruth(t *testing.T) {
	t.Setenv(driver.EnvVar, "")
	dec, err := driver.Choose(driver.Auto)
	if err != nil {
		t.Skipf("no driver on this platform: %v", err)
	}
	out, errs, code := runCmd(t, "info")
	if code != 0 {
		t.Fatalf("info exited %d: %s", code, errs)
	}
	want := "driver      " + string(dec.Kind) + " — "
	if !strings.Contains(out, want) {
		t.Fatalf("info does not say %q:\n%s", want, out)
	}
	if dec.Kind == driver.Uring && !strings.Contains(out, "io_uring    available") {
		t.Fatalf("io_uring chosen but not reported available:\n%s", out)
	}
	if os.Getenv("ZOKIO_REQUIRE_URING") != "" && dec.Kind != driver.Uring {
		t.Fatalf("ZOKIO_REQUIRE_URING is set but info reports %s:\n%s", dec.Kind, out)
	}
}

func TestInfoJSON(t *testing.T) {
	out, errs, code := runCmd(t, "info", "--json")
	if code != 0 {
		t.Fatalf("info --json exited %d: %s", code, errs)
	}
	var r infoReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("info --json is not JSON: %v\n%s", err, out)
	}
	if r.OS == "" || r.Driver.Reason == "" && r.Driver.Error == "" {
		t.Fatalf("info --json lacks fields: %+v", r)
	}
}

func TestInfoForcedEpollDoesNotProbe(t *testing.T) {
	t.Setenv(driver.EnvVar, "epoll")
	out, _, code := runCmd(t, "info", "--json")
	if code != 0 {
		t.Skip("no epoll on this platform")
	}
	var r infoReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if r.Driver.Chosen != "epoll" || r.Driver.Forced != "env" || r.IOUring == nil || r.IOUring.Probed {
		t.Fatalf("forced epoll: %+v io_uring %+v", r.Driver, r.IOUring)
	}
	if r.SQPoll == nil || r.SQPoll.Probed || r.SQPoll.Decision.Mode != sqpoll.Off {
		t.Fatalf("forced epoll: SQPOLL must not be probed: %+v", r.SQPoll)
	}
}

func TestUsageAndUnknownCommand(t *testing.T) {
	if out, _, code := runCmd(t); code != 0 || !strings.Contains(out, "info") {
		t.Fatalf("usage: exit %d\n%s", code, out)
	}
	if _, errs, code := runCmd(t, "frobnicate"); code != 2 || !strings.Contains(errs, "unknown command") {
		t.Fatalf("unknown command: exit %d, %q", code, errs)
	}
	if _, _, code := runCmd(t, "info", "--bogus"); code == 0 {
		t.Fatal("info accepted an unknown flag")
	}
}

func TestCPUList(t *testing.T) {
	for _, c := range []struct {
		in   []int
		want string
	}{{[]int{0}, "0"}, {[]int{0, 1, 2, 3}, "0-3"}, {[]int{0, 2, 3, 4, 7}, "0,2-4,7"}} {
		if got := cpuList(c.in); got != c.want {
			t.Errorf("cpuList(%v) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestInfoPlacement checks the NUMA and SQPOLL parts: the topology and plan are
// numa's, the SQPOLL permission is sqpoll's probe, and --json carries the same.
func TestInfoPlacement(t *testing.T) {
	t.Setenv(driver.EnvVar, "")
	t.Setenv(sqpoll.EnvVar, "")
	top, err := numa.Read()
	if err != nil {
		t.Fatal(err)
	}
	plan, err := top.Plan(numa.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out, errs, code := runCmd(t, "info")
	if code != 0 {
		t.Fatalf("info exited %d: %s", code, errs)
	}
	for _, want := range []string{
		"numa        " + strings.SplitN(top.String(), "\n", 2)[0],
		"plan        " + strings.SplitN(plan.String(), "\n", 2)[0],
		"loop  cpu  node  mem-node  sq-cpu",
		"  policy    off — ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("info lacks %q:\n%s", want, out)
		}
	}
	dec, _ := driver.Choose(driver.Auto)
	if dec.Kind == driver.Uring {
		want := "sqpoll      allowed, per ring and shared"
		if p := sqpoll.Probe(); p.Err != nil {
			want = "sqpoll      REFUSED: " + p.Err.Error()
		} else if p.AttachErr != nil {
			want = "sqpoll      allowed per ring; a shared SQ thread is REFUSED"
		}
		if !strings.Contains(out, want) {
			t.Errorf("info lacks %q:\n%s", want, out)
		}
	}

	t.Setenv(sqpoll.EnvVar, "per-ring")
	out, errs, code = runCmd(t, "info", "--json", "--loops", "3", "--strategy", "pack")
	if code != 0 {
		t.Fatalf("info --json exited %d: %s", code, errs)
	}
	var r infoReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("info --json: %v\n%s", err, out)
	}
	if r.NUMA == nil || r.NUMA.Topology == nil || r.NUMA.Plan == nil || r.SQPoll == nil {
		t.Fatalf("info --json lacks numa or sqpoll: %s", out)
	}
	if len(r.NUMA.Plan.Loops) != 3 || r.NUMA.Plan.Strategy != numa.Pack || r.NUMA.Topology.Allowed.String() != top.Allowed.String() {
		t.Fatalf("plan %+v, allowed %s", r.NUMA.Plan, r.NUMA.Topology.Allowed)
	}
	if dec.Kind == driver.Uring {
		want := sqpoll.PerRing
		if !r.SQPoll.Allowed {
			want = sqpoll.Off
		}
		if !r.SQPoll.Probed || r.SQPoll.Decision.Mode != want || r.SQPoll.Decision.Forced != "env" {
			t.Fatalf("sqpoll with %s=per-ring: %+v", sqpoll.EnvVar, r.SQPoll)
		}
	}
	if _, _, code := runCmd(t, "info", "--strategy", "scatter"); code == 0 {
		t.Fatal("info accepted an unknown strategy")
	}
}

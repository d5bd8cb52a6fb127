package iouringblock

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Child is the harness for tests that run in a sandboxed child process: a test re-runs
// its own test binary (Run) with the environment variable Env set to a mode, and the
// child's TestMain calls Prepare, which installs the filter for that mode before any
// test runs, so that the child meets io_uring the way a container or a sandbox
// makes it.
type Child struct {
	Env string // the variable that carries the mode to the child
}

// Mode reports whether this process is a sandboxed child, and its mode.
func (c Child) Mode() (string, bool) {
	m := os.Getenv(c.Env)
	return m, m != ""
}

// Prepare installs the filter when this process is a sandboxed child; outside one it
// does nothing. A child whose filter cannot be installed exits with status 3.
func (c Child) Prepare() {
	if mode, ok := c.Mode(); ok {
		if err := Install(mode); err != nil {
			fmt.Fprintln(os.Stderr, "sandbox:", err)
			os.Exit(3)
		}
	}
}

// Run runs the tests matching pattern (anchored) in a child of this test binary under
// mode, with extra environment, and returns its combined output. The child's tests
// time out after 120 s, and the child is killed after 150 s.
func (c Child) Run(t testing.TB, mode, pattern string, env ...string) (string, error) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	args := []string{"-test.run=^" + pattern + "$", "-test.v", "-test.count=1", "-test.timeout=120s"}
	cmd := exec.CommandContext(ctx, exe, append(args, CoverArgs()...)...)
	cmd.Env = append(os.Environ(), c.Env+"="+mode)
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// CoverArgs returns the flag that makes a child of a coverage-instrumented test binary
// write its counters where the parent writes its own (-test.gocoverdir), so that code
// reached only in the child counts in the merged profile; it is empty when the parent
// collects no coverage.
func CoverArgs() []string {
	if testing.CoverMode() == "" {
		return nil
	}
	f := flag.Lookup("test.gocoverdir")
	if f == nil || f.Value.String() == "" {
		return nil
	}
	return []string{"-test.gocoverdir=" + f.Value.String()}
}

// LastLines returns the last n lines of s, for failure messages that quote a child.
func LastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

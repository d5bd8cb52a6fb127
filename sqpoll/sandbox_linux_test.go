package sqpoll

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/zokio/zokio/internal/iouringblock"
)

// The subprocess harness, as in runtime/driver: a test re-runs this test binary with
// sandboxEnv set, and TestMain installs a seccomp filter before any test runs, so that
// the child meets io_uring the way a Docker container does (EPERM) or a sandbox that
// kills the caller (KILL).
const sandboxEnv = "ZOKIO_TEST_SQPOLL_SECCOMP"

// prepareChild installs the sandbox when this process is a sandboxed child.
func prepareChild() {
	if mode, ok := inChild(); ok {
		if err := installSandbox(mode); err != nil {
			fmt.Fprintln(os.Stderr, "sandbox:", err)
			os.Exit(3)
		}
	}
}

// inChild reports whether this process is a sandboxed child, and which mode.
func inChild() (string, bool) {
	m := os.Getenv(sandboxEnv)
	return m, m != ""
}

// installSandbox applies the filter named by mode to every thread of the process.
func installSandbox(mode string) error { return iouringblock.Install(mode) }

// runChild runs the tests matching pattern in a sandboxed child of this test binary,
// with extra environment, and returns its combined output.
func runChild(t *testing.T, mode, pattern string, env ...string) (string, error) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, "-test.run=^"+pattern+"$", "-test.v", "-test.count=1", "-test.timeout=60s")
	cmd.Env = append(os.Environ(), sandboxEnv+"="+mode)
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

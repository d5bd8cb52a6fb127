package driver_test

import (
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/zokio/zokio/internal/iouringblock"
	"golang.org/x/sys/unix"
)

// The subprocess harness: a test re-runs this test binary with sandboxEnv set; TestMain
// then installs a seccomp filter before any test runs, so the child sees a kernel where
// io_uring fails the way it does under Docker's profile (EPERM), on a kernel without
// io_uring (ENOSYS), or in a sandbox that kills the caller (KILL).
const sandboxEnv = "ZOKIO_TEST_SECCOMP"

// installSandbox applies the filter named by mode to every thread of the process.
func installSandbox(mode string) error { return iouringblock.Install(mode) }

// runChild runs the tests matching pattern in a child of this test binary under the
// sandbox mode, with extra environment, and returns its combined output.
func runChild(t *testing.T, mode, pattern string, env ...string) (string, error) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^"+pattern+"$", "-test.v", "-test.count=1", "-test.timeout=120s")
	cmd.Env = append(os.Environ(), sandboxEnv+"="+mode)
	cmd.Env = append(cmd.Env, env...)
	done := make(chan struct{})
	timer := time.AfterFunc(150*time.Second, func() {
		select {
		case <-done:
		default:
			if cmd.Process != nil {
				_ = cmd.Process.Kill()
			}
		}
	})
	defer timer.Stop()
	out, err := cmd.CombinedOutput()
	close(done)
	return string(out), err
}

// inChild reports whether this process is a sandboxed child, and which mode.
func inChild() (string, bool) {
	m := os.Getenv(sandboxEnv)
	return m, m != ""
}

// setupErrno calls io_uring_setup directly and returns its errno (0 on success).
func setupErrno() syscall.Errno {
	var p [120]byte
	fd, _, e := unix.Syscall(unix.SYS_IO_URING_SETUP, 2, uintptr(unsafe.Pointer(&p[0])), 0)
	if e == 0 {
		unix.Close(int(fd))
	}
	return e
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

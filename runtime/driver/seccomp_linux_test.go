package driver_test

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The subprocess harness: a test re-runs this test binary with sandboxEnv set; TestMain
// then installs a seccomp filter before any test runs, so the child sees a kernel where
// io_uring fails the way it does under Docker's profile (EPERM), on a kernel without
// io_uring (ENOSYS), or in a sandbox that kills the caller (KILL).
const sandboxEnv = "ZOKIO_TEST_SECCOMP"

// installSandbox applies the filter named by mode to every thread of the process.
func installSandbox(mode string) error {
	var action uint32
	switch mode {
	case "EPERM":
		action = unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)
	case "ENOSYS":
		action = unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)
	case "KILL":
		action = unix.SECCOMP_RET_KILL_PROCESS
	default:
		return fmt.Errorf("unknown sandbox mode %q", mode)
	}
	arch, ok := auditArch[runtime.GOARCH]
	if !ok {
		return fmt.Errorf("no audit arch for %s", runtime.GOARCH)
	}
	prog := filter(arch, action)
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("PR_SET_NO_NEW_PRIVS: %w", err)
	}
	// SAFETY: fprog and prog are live for the call; the kernel copies the program.
	_, _, e := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER,
		unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&fprog)))
	if e != 0 {
		return fmt.Errorf("seccomp(SET_MODE_FILTER): %w", e)
	}
	return nil
}

var auditArch = map[string]uint32{
	"amd64": unix.AUDIT_ARCH_X86_64, "arm64": unix.AUDIT_ARCH_AARCH64,
	"386": unix.AUDIT_ARCH_I386, "riscv64": unix.AUDIT_ARCH_RISCV64,
	"ppc64le": unix.AUDIT_ARCH_PPC64LE, "s390x": unix.AUDIT_ARCH_S390X,
}

// filter is a classic BPF program: on this architecture, io_uring_setup, _enter and
// _register get action; everything else is allowed.
func filter(arch, action uint32) []unix.SockFilter {
	const (
		ldW  = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
		jeqK = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
		retK = unix.BPF_RET | unix.BPF_K
	)
	return []unix.SockFilter{
		{Code: ldW, K: 4}, // seccomp_data.arch
		{Code: jeqK, Jt: 1, Jf: 0, K: arch},
		{Code: retK, K: unix.SECCOMP_RET_ALLOW}, // another ABI: leave it alone
		{Code: ldW, K: 0},                       // seccomp_data.nr
		{Code: jeqK, Jt: 3, Jf: 0, K: unix.SYS_IO_URING_SETUP},
		{Code: jeqK, Jt: 2, Jf: 0, K: unix.SYS_IO_URING_ENTER},
		{Code: jeqK, Jt: 1, Jf: 0, K: unix.SYS_IO_URING_REGISTER},
		{Code: retK, K: unix.SECCOMP_RET_ALLOW},
		{Code: retK, K: action},
	}
}

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

package sqpoll

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
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
func installSandbox(mode string) error {
	var action uint32
	switch mode {
	case "EPERM":
		action = unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)
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
	defer runtime.UnlockOSThread() // the filter changes no CPU mask: unlocking is safe
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

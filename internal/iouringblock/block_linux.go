package iouringblock

import (
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Install applies the filter for mode ("EPERM", "ENOSYS" or "KILL") to every thread of
// the process. It cannot be undone: call it in a child process, before any test runs.
func Install(mode string) error {
	var action uint32
	switch mode {
	case "EPERM":
		action = unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)
	case "ENOSYS":
		action = unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)
	case "KILL":
		action = unix.SECCOMP_RET_KILL_PROCESS
	default:
		return fmt.Errorf("unknown sandbox mode %q (want EPERM, ENOSYS or KILL)", mode)
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

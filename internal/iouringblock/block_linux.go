package iouringblock

import (
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Install applies the filter for mode to every thread of the process. It cannot be
// undone: call it in a child process, before any test runs. The modes:
//
//   - "EPERM", "ENOSYS", "EACCES": io_uring_setup, _enter and _register fail with that
//     errno (Docker's default profile, a kernel without io_uring, a security module).
//   - "KILL": calling any of them kills the process.
//   - "BIG:ENOMEM", "BIG:EINVAL": io_uring_setup fails with that errno when asked for
//     more than 4 entries, so a small probe ring works but a real one does not (a
//     memlock limit reached only by the larger ring).
//   - "SETUP:EINVAL": every io_uring_setup fails with EINVAL (an error that does not
//     mean unavailability).
//   - "NOPROBE": io_uring_register(IORING_REGISTER_PROBE) fails with EINVAL, as on
//     kernels before 5.6.
//   - "NOPBUF": io_uring_register(IORING_REGISTER_PBUF_RING) fails with EINVAL, as on
//     kernels before 5.19.
func Install(mode string) error {
	errno := func(e unix.Errno) uint32 { return unix.SECCOMP_RET_ERRNO | uint32(e) }
	all := func(action uint32) []rule {
		return []rule{
			{nr: unix.SYS_IO_URING_SETUP, arg: -1, action: action},
			{nr: unix.SYS_IO_URING_ENTER, arg: -1, action: action},
			{nr: unix.SYS_IO_URING_REGISTER, arg: -1, action: action},
		}
	}
	var rules []rule
	switch mode {
	case "EPERM":
		rules = all(errno(unix.EPERM))
	case "ENOSYS":
		rules = all(errno(unix.ENOSYS))
	case "EACCES":
		rules = all(errno(unix.EACCES))
	case "KILL":
		rules = all(unix.SECCOMP_RET_KILL_PROCESS)
	case "BIG:ENOMEM", "BIG:EINVAL":
		e := map[string]unix.Errno{"BIG:ENOMEM": unix.ENOMEM, "BIG:EINVAL": unix.EINVAL}[mode]
		rules = []rule{{nr: unix.SYS_IO_URING_SETUP, arg: 0, gt: true, val: 4, action: errno(e)}}
	case "SETUP:EINVAL":
		rules = []rule{{nr: unix.SYS_IO_URING_SETUP, arg: -1, action: errno(unix.EINVAL)}}
	case "NOPROBE":
		rules = []rule{{nr: unix.SYS_IO_URING_REGISTER, arg: 1, val: registerProbe, action: errno(unix.EINVAL)}}
	case "NOPBUF":
		rules = []rule{{nr: unix.SYS_IO_URING_REGISTER, arg: 1, val: registerPbufRing, action: errno(unix.EINVAL)}}
	default:
		return fmt.Errorf("unknown sandbox mode %q (want EPERM, ENOSYS, EACCES, KILL, BIG:ENOMEM, BIG:EINVAL, SETUP:EINVAL, NOPROBE or NOPBUF)", mode)
	}
	arch, ok := auditArch[runtime.GOARCH]
	if !ok {
		return fmt.Errorf("no audit arch for %s", runtime.GOARCH)
	}
	prog := filter(arch, rules)
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

// rule gives action to system call nr, or, with arg >= 0, only to calls whose argument
// arg (its low 32 bits) equals val (gt: exceeds val).
type rule struct {
	nr     uint32
	arg    int
	gt     bool
	val    uint32
	action uint32
}

var auditArch = map[string]uint32{
	"amd64": unix.AUDIT_ARCH_X86_64, "arm64": unix.AUDIT_ARCH_AARCH64,
	"386": unix.AUDIT_ARCH_I386, "riscv64": unix.AUDIT_ARCH_RISCV64,
	"ppc64le": unix.AUDIT_ARCH_PPC64LE, "s390x": unix.AUDIT_ARCH_S390X,
}

// filter is a classic BPF program: on this architecture, the first rule that matches
// a call gives it its action; everything else is allowed.
func filter(arch uint32, rules []rule) []unix.SockFilter {
	const (
		ldW  = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
		jeqK = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
		jgtK = unix.BPF_JMP | unix.BPF_JGT | unix.BPF_K
		retK = unix.BPF_RET | unix.BPF_K
		// seccomp_data: nr at 0, arch at 4, args (64-bit each) from 16.
		argsOff = 16
	)
	var one uint16 = 1
	low := uint32(0) // offset of an argument's low 32 bits within its 64
	if *(*byte)(unsafe.Pointer(&one)) == 0 {
		low = 4 // big-endian
	}
	prog := []unix.SockFilter{
		{Code: ldW, K: 4}, // seccomp_data.arch
		{Code: jeqK, Jt: 1, Jf: 0, K: arch},
		{Code: retK, K: unix.SECCOMP_RET_ALLOW}, // another ABI: leave it alone
	}
	for _, r := range rules {
		if r.arg < 0 {
			prog = append(prog,
				unix.SockFilter{Code: ldW, K: 0},
				unix.SockFilter{Code: jeqK, Jt: 0, Jf: 1, K: r.nr},
				unix.SockFilter{Code: retK, K: r.action})
			continue
		}
		cmp := uint16(jeqK)
		if r.gt {
			cmp = jgtK
		}
		prog = append(prog,
			unix.SockFilter{Code: ldW, K: 0},
			unix.SockFilter{Code: jeqK, Jt: 0, Jf: 3, K: r.nr},
			unix.SockFilter{Code: ldW, K: argsOff + 8*uint32(r.arg) + low},
			unix.SockFilter{Code: cmp, Jt: 0, Jf: 1, K: r.val},
			unix.SockFilter{Code: retK, K: r.action})
	}
	return append(prog, unix.SockFilter{Code: retK, K: unix.SECCOMP_RET_ALLOW})
}

// The io_uring_register opcodes the NOPROBE and NOPBUF modes refuse (linux/io_uring.h).
const (
	registerProbe    = 8
	registerPbufRing = 22
)

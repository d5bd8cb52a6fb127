package numa

import (
	"fmt"
	"os"
	"syscall"

	"golang.org/x/sys/windows"
)

// maxPinCPU is the last CPU a thread affinity mask can name: one mask covers the 64
// logical processors of a processor group, and loops run in the process's group.
const maxPinCPU = 63

var procSetThreadAffinityMask = windows.NewLazySystemDLL("kernel32.dll").NewProc("SetThreadAffinityMask")

// PinThread binds the calling OS thread to cpu (SetThreadAffinityMask), one of the
// first 64 CPUs (one processor group).
//
// Call it only after runtime.LockOSThread, never before, and never call
// runtime.UnlockOSThread afterwards: as on Linux, a thread whose mask was changed must
// not return to Go's pool. Let the locked goroutine exit, and Go ends the thread.
func PinThread(cpu int) error {
	if cpu < 0 || cpu > maxPinCPU {
		return fmt.Errorf("numa: CPU %d out of range [0, %d] (one processor group)", cpu, maxPinCPU)
	}
	_, err := setThreadAffinity(uint64(1) << cpu)
	return err
}

// setThreadAffinity sets the calling thread's affinity mask and returns the previous
// one.
func setThreadAffinity(mask uint64) (uint64, error) {
	if err := procSetThreadAffinityMask.Find(); err != nil {
		return 0, err
	}
	// GetCurrentThread is a pseudo-handle: nothing to close.
	cur := windows.CurrentThread()
	old, _, e := syscall.SyscallN(procSetThreadAffinityMask.Addr(), uintptr(cur), uintptr(mask))
	if old == 0 {
		if e == 0 {
			e = syscall.EINVAL
		}
		return 0, os.NewSyscallError("SetThreadAffinityMask", e)
	}
	return uint64(old), nil
}

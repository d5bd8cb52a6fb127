package numa

import (
	"errors"
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Read returns this machine's topology: sysfs and the cgroup files through the real
// root, restricted by the calling thread's affinity mask. Call it from a goroutine that
// is not locked to a pinned thread, or the mask is that thread's single CPU.
func Read() (*Topology, error) {
	aff, err := Affinity()
	if err != nil {
		return nil, err
	}
	return ReadFS(os.DirFS("/"), aff)
}

// Affinity returns the calling thread's CPU affinity mask (sched_getaffinity), sized
// for any number of CPUs the kernel supports.
func Affinity() (CPUList, error) {
	for bits := 1024; bits <= MaxCPU+1; bits *= 2 {
		set := unix.NewCPUSet(bits)
		err := unix.SchedGetaffinityDynamic(0, set)
		if err == unix.EINVAL {
			continue // the kernel's mask is wider than set
		}
		if err != nil {
			return nil, os.NewSyscallError("sched_getaffinity", err)
		}
		var l CPUList
		for c := 0; c < bits; c++ {
			if set.IsSet(c) {
				l = append(l, c)
			}
		}
		return l, nil
	}
	return nil, os.NewSyscallError("sched_getaffinity", unix.EINVAL)
}

// PinThread binds the calling OS thread to cpu (sched_setaffinity).
//
// Call it only after runtime.LockOSThread, never before: otherwise Go may move the
// goroutine to another thread at any moment and the pin lands on a thread that other
// goroutines then run on. And never call runtime.UnlockOSThread afterwards: a thread
// whose mask was changed must not return to Go's pool, where any goroutine would
// inherit the pin. Let the locked goroutine exit instead, and Go ends the thread.
func PinThread(cpu int) error {
	if cpu < 0 || cpu > MaxCPU {
		return fmt.Errorf("numa: CPU %d out of range [0, %d]", cpu, MaxCPU)
	}
	set := unix.NewCPUSet(max(cpu+1, 1024))
	set.Set(cpu)
	if err := unix.SchedSetaffinityDynamic(0, set); err != nil {
		return os.NewSyscallError("sched_setaffinity", err)
	}
	return nil
}

// The memory policy ABI of mbind(2) (include/uapi/linux/mempolicy.h). x/sys does not
// name these constants.
const (
	mpolPreferred = 1
	mpolBind      = 2
	mpolMFMove    = 1 << 1 // move pages already faulted in, when only this process maps them
)

// ErrNotMapped is returned by Bind for memory that is empty or does not start on a
// page boundary, the mark of memory that mmap did not return.
var ErrNotMapped = errors.New("numa: memory to bind must be page-aligned memory from mmap")

// maxNode bounds the node numbers Bind accepts (MAX_NUMNODES is 1024 in distribution
// kernels).
const maxNode = 1023

// Bind applies a memory policy to mem with mbind(2): its pages come from node, strictly
// or by preference, and pages already touched are moved there. mem must be memory
// mapped outside the Go heap (an mmap'd arena), starting on a page boundary; Go heap
// memory could be moved or shared with other objects and must never be bound.
//
// Bind always makes the system call, even on a single node; Plan.BindArena is the
// call that does nothing where there is nothing to choose. Errors are
// *os.SyscallError values: EINVAL for a node that does not exist or has no memory,
// EPERM where a seccomp profile forbids mbind (Docker's default does, without
// CAP_SYS_NICE). A failed Bind leaves the memory usable under the default policy, so
// callers may treat it as advice not taken.
func Bind(mem []byte, node int, p Policy) error {
	if len(mem) == 0 || uintptr(unsafe.Pointer(unsafe.SliceData(mem)))%uintptr(os.Getpagesize()) != 0 {
		return ErrNotMapped
	}
	if node < 0 || node > maxNode {
		return fmt.Errorf("numa: node %d out of range [0, %d]", node, maxNode)
	}
	mode := uintptr(mpolPreferred)
	if p == Strict {
		mode = mpolBind
	}
	var mask [(maxNode + 1) / 64]uint64
	mask[node/64] |= 1 << (node % 64)
	// SAFETY: mem is caller-owned mapped memory, live for the call; the kernel reads
	// mask during the call only and keeps no pointer to it. maxnode counts one more bit
	// than the mask holds: the kernel reads maxnode-1 bits (a historical off-by-one).
	_, _, e := unix.Syscall6(unix.SYS_MBIND, uintptr(unsafe.Pointer(unsafe.SliceData(mem))), uintptr(len(mem)),
		mode, uintptr(unsafe.Pointer(&mask[0])), uintptr(len(mask)*64+1), mpolMFMove)
	if e != 0 {
		return os.NewSyscallError("mbind", e)
	}
	return nil
}

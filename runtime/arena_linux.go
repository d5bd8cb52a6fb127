package runtime

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/zokio/zokio/poller"
	"github.com/zokio/zokio/uring"
)

// mapArena maps size bytes of private anonymous memory, binds it with bind (the
// loop's NUMA node; nil: no binding) before any page exists, then populates it, so that
// the pages are allocated where the policy says and the first reads into the arena do
// not fault page by page.
func mapArena(size int, bind func(mem []byte) error) ([]byte, error) {
	mem, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return nil, fmt.Errorf("zokio/runtime: mapping a %d-byte arena: %w", size, err)
	}
	if bind != nil {
		if err := bind(mem); err != nil {
			_ = unix.Munmap(mem)
			return nil, fmt.Errorf("zokio/runtime: binding a %d-byte arena to its loop's node: %w", size, err)
		}
	}
	if unix.Madvise(mem, unix.MADV_POPULATE_WRITE) != nil {
		// Before Linux 5.14: fault the pages in by touching them.
		page := os.Getpagesize()
		for i := 0; i < len(mem); i += page {
			mem[i] = 0
		}
	}
	return mem, nil
}

func unmapArena(mem []byte) { _ = unix.Munmap(mem) }

// bufRing returns l's ring when its driver has registered buffers. On the loop only.
func bufRing(l *Loop) *uring.Ring { return uring.RingOf(l.d, poller.FeatFixedBuffers) }

// registerBufTable registers a sparse table of n slots with l's ring. The empty
// table pins nothing. On the loop only.
func registerBufTable(l *Loop, n int) error {
	r := bufRing(l)
	if r == nil {
		return errNoFixedBuffers
	}
	if err := r.RegisterBuffersSparse(uint32(n)); err != nil {
		return fmt.Errorf("zokio/runtime: registering the loop's buffer table: %w", err)
	}
	return nil
}

// setBufSlot installs mem in slot of l's table, or empties the slot for a nil mem.
// Before pinning it checks RLIMIT_MEMLOCK, and it reads the kernel's ENOMEM the same
// way: either is a *MemlockError. On the loop only.
func setBufSlot(l *Loop, slot uint16, mem []byte) error {
	r := bufRing(l)
	if r == nil {
		return errNoFixedBuffers
	}
	if mem != nil {
		if err := checkMemlock(len(mem)); err != nil {
			return err
		}
	}
	_, err := r.RegisterBuffersUpdate(uint32(slot), [][]byte{mem})
	if errors.Is(err, syscall.ENOMEM) {
		return &MemlockError{Have: memlockLimit(), Need: pageRound(len(mem)), Err: err}
	}
	return err
}

// checkMemlock refuses a registration of size bytes that RLIMIT_MEMLOCK cannot hold
// unless the process has CAP_IPC_LOCK, which lifts the limit: the kernel would refuse
// it after pinning part of it. The kernel counts pinned pages per user, across all
// of that user's rings and processes, so a registration this lets through can still
// get ENOMEM.
func checkMemlock(size int) error {
	have, need := memlockLimit(), pageRound(size)
	if have == unix.RLIM_INFINITY || need <= have || hasIPCLock() {
		return nil
	}
	return &MemlockError{Have: have, Need: need, Err: syscall.ENOMEM}
}

// memlockLimit returns RLIMIT_MEMLOCK's soft limit, unlimited when unknown.
func memlockLimit() uint64 {
	var lim unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_MEMLOCK, &lim) != nil {
		return unix.RLIM_INFINITY
	}
	return lim.Cur
}

// pageRound rounds size up to whole pages, which is what the kernel pins and counts.
func pageRound(size int) uint64 {
	page := uint64(os.Getpagesize())
	return (uint64(size) + page - 1) / page * page
}

// hasIPCLock reports whether the calling thread has CAP_IPC_LOCK in its effective
// set (Go applies setuid and capability changes to every thread).
func hasIPCLock() bool {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if unix.Capget(&hdr, &data[0]) != nil {
		return true // unknown: let the kernel decide
	}
	return data[unix.CAP_IPC_LOCK/32].Effective&(1<<(unix.CAP_IPC_LOCK%32)) != 0
}

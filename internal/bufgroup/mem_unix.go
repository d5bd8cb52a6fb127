//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package bufgroup

import (
	"os"

	"golang.org/x/sys/unix"
)

// alloc maps n bytes of anonymous private memory.
func alloc(n int) ([]byte, error) {
	mem, err := unix.Mmap(-1, 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		return nil, os.NewSyscallError("mmap", err)
	}
	return mem, nil
}

func release(mem []byte) error { return unix.Munmap(mem) }

//go:build dragonfly || freebsd || netbsd

package poller

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// fileRW runs readv/writev, or preadv/pwritev at off unless off is -1, as raw system
// calls (these systems allow them; x/sys has no Preadv for them). SAFETY as in
// sys_raw.go.
func fileRW(fd int, iov []unix.Iovec, off int64, write bool) (int, syscall.Errno) {
	v := iovPtr(iov)
	if off == -1 {
		trap := uintptr(unix.SYS_READV)
		if write {
			trap = unix.SYS_WRITEV
		}
		n, _, errno := unix.Syscall(trap, uintptr(fd), uintptr(v), uintptr(len(iov)))
		return int(n), errno
	}
	trap, a4, a5, a6 := preadvArgs(off, write)
	n, _, errno := unix.Syscall6(trap, uintptr(fd), uintptr(v), uintptr(len(iov)), a4, a5, a6)
	return int(n), errno
}

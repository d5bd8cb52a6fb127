//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package pollertest

import "golang.org/x/sys/unix"

// openFDs counts the process's open descriptors, asking fcntl about each number below
// the descriptor limit (at most 65536 of them): these systems have no /proc, and
// /dev/fd lists every descriptor only where fdescfs is mounted.
func openFDs() int {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		return -1
	}
	limit := int64(lim.Cur)
	if limit <= 0 || limit > 1<<16 {
		limit = 1 << 16
	}
	n := 0
	for fd := 0; fd < int(limit); fd++ {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == nil {
			n++
		}
	}
	return n
}

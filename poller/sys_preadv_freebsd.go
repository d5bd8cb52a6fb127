package poller

import "golang.org/x/sys/unix"

// preadvArgs: FreeBSD's preadv(fd, iov, iovcnt, offset), the offset in two words on
// 32-bit systems.
func preadvArgs(off int64, write bool) (trap, a4, a5, a6 uintptr) {
	trap = unix.SYS_PREADV
	if write {
		trap = unix.SYS_PWRITEV
	}
	lo, hi := offsetWords(off)
	return trap, lo, hi, 0
}

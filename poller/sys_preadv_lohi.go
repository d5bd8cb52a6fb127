//go:build linux || freebsd

package poller

import "golang.org/x/sys/unix"

// preadvArgs: Linux's and FreeBSD's preadv(fd, iov, iovcnt, offset), the offset in
// two words on 32-bit systems, low then high (on a 64-bit one the second word is 0 and
// unused).
func preadvArgs(off int64, write bool) (trap, a4, a5, a6 uintptr) {
	trap = unix.SYS_PREADV
	if write {
		trap = unix.SYS_PWRITEV
	}
	lo, hi := offsetWords(off)
	return trap, lo, hi, 0
}

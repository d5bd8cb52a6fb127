package poller

import "golang.org/x/sys/unix"

// preadvArgs: DragonFly's preadv is extpreadv(fd, iov, iovcnt, flags, offset) with
// no flags (amd64 only, so the offset is one word).
func preadvArgs(off int64, write bool) (trap, a4, a5, a6 uintptr) {
	trap = unix.SYS_EXTPREADV
	if write {
		trap = unix.SYS_EXTPWRITEV
	}
	off64, _ := offsetWords(off)
	return trap, 0, off64, 0
}

package poller

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// ioSplice runs splice(2) for op without blocking on its pipe end.
func ioSplice(op *Op) (int, syscall.Errno) {
	var off *int64
	if op.Offset >= 0 {
		o := op.Offset
		off = &o
	}
	flags := int(op.Arg) | unix.SPLICE_F_NONBLOCK
	n, err := unix.Splice(op.Fd, off, op.Fd2, nil, int(op.Len), flags)
	if err != nil {
		return 0, toErrno(err)
	}
	return int(n), 0
}

package znet

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// The kernel side of splicing (splice.go): a pipe between the two ends, and
// duplicates of descriptors that another loop (or the os package) owns.

// spliceMax is the most bytes one splice round moves: the pipe is grown to this size
// when the system allows (as Go's net grows its splice pipes), else it stays at the
// default 64 KiB.
const spliceMax = 1 << 20

// newPipe returns a non-blocking, close-on-exec pipe and the bytes it holds.
func newPipe() (r, w, size int, err error) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
		return -1, -1, 0, os.NewSyscallError("pipe2", err)
	}
	_, _ = unix.FcntlInt(uintptr(p[1]), unix.F_SETPIPE_SZ, spliceMax)
	size, err = unix.FcntlInt(uintptr(p[1]), unix.F_GETPIPE_SZ, 0)
	if err != nil || size <= 0 {
		size = 64 << 10
	}
	return p[0], p[1], size, nil
}

// dupFd duplicates fd, close-on-exec, for ops on a loop that does not own fd: the
// duplicate is that loop's, which closes it through its driver, so no driver keeps
// state about a number that someone else closes.
func dupFd(fd int) (int, error) {
	nfd, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return -1, os.NewSyscallError("fcntl", err)
	}
	return nfd, nil
}

// appendOnly reports whether fd was opened with O_APPEND, which splice refuses.
func appendOnly(fd int) bool {
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	return err != nil || fl&unix.O_APPEND != 0
}

// isAgain reports whether an op failed with EAGAIN.
func isAgain(err error) bool { return errors.Is(err, unix.EAGAIN) }

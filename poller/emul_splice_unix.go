//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package poller

import "golang.org/x/sys/unix"

// trySplice makes one attempt at a splice on its non-blocking ends. EAGAIN waits for
// the end that is not a pipe, unless the pipe end is the one not ready.
func (e *emul) trySplice(idx int32, op *Op, budget *int) tryResult {
	for {
		*budget--
		n, errno := ioSplice(op)
		switch {
		case errno == unix.EINTR:
			continue
		case errno == unix.EAGAIN && e.splicePipeReady(op):
			return tryWait
		case errno != 0:
			e.finish(idx, -int32(errno), 0, 0)
		default:
			e.finish(idx, int32(n), 0, 0)
		}
		return tryDone
	}
}

// OpSplice on the readiness core (drivers with FeatSplice: epoll). One end is a
// pipe, which the caller keeps ready (see OpSplice); the op waits for the other end.
// A regular file at either end makes it a file op, run on the worker pool.

func (e *emul) startSplice(idx int32, s *slot, op *Op) {
	fin, errno := e.fdFor(op.Fd)
	var fout *fdState
	if errno == 0 {
		fout, errno = e.fdFor(op.Fd2)
	}
	var kin, kout fdKind
	if errno == 0 {
		kin, errno = e.kindOf(op.Fd, fin)
	}
	if errno == 0 {
		kout, errno = e.kindOf(op.Fd2, fout)
	}
	if errno != 0 {
		e.finish(idx, -int32(errno), 0, 0)
		return
	}
	if kin == kindFile || kout == kindFile {
		e.startFile(idx, s, op)
		return
	}
	if e.isFifo(op.Fd2) {
		e.tryOrQueue(idx, s, op.Fd, fin, dirRead)
	} else {
		e.tryOrQueue(idx, s, op.Fd2, fout, dirWrite)
	}
}

// isFifo reports whether fd is a pipe or FIFO.
func (e *emul) isFifo(fd int) bool {
	return unix.Fstat(fd, &e.sc.stat) == nil && uint32(e.sc.stat.Mode)&unix.S_IFMT == unix.S_IFIFO
}

// splicePipeReady reports whether the pipe end of a splice that saw EAGAIN is ready:
// if it is not, the EAGAIN is the pipe's, which no readiness of the other end would
// cure, and the op fails with it instead of waiting (see OpSplice).
func (e *emul) splicePipeReady(op *Op) bool {
	pfd := &e.sc.pfd[0]
	if e.isFifo(op.Fd2) {
		*pfd = unix.PollFd{Fd: int32(op.Fd2), Events: unix.POLLOUT}
	} else {
		*pfd = unix.PollFd{Fd: int32(op.Fd), Events: unix.POLLIN}
	}
	n, err := unix.Poll(e.sc.pfd[:], 0)
	return err != nil || n > 0 && pfd.Revents&(unix.POLLIN|unix.POLLOUT|unix.POLLHUP|unix.POLLERR) != 0
}

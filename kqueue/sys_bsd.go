//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package kqueue

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// The driver's kqueue and kevent calls on the BSDs and macOS: x/sys/unix's functions,
// which go through libc on macOS and OpenBSD. Kevent_t's layout differs per system
// (NetBSD's Filter and Flags are uint32, FreeBSD/386's Ident is uint32), so the
// driver converts its fields and fills it with unix.SetKevent.

type kevent = unix.Kevent_t

const (
	evfiltRead  = unix.EVFILT_READ
	evfiltWrite = unix.EVFILT_WRITE
	evAdd       = unix.EV_ADD
	evDelete    = unix.EV_DELETE
	evClear     = unix.EV_CLEAR
	evError     = unix.EV_ERROR
	evEOF       = unix.EV_EOF
)

func kqueueFd() (int, error) {
	fd, err := unix.Kqueue()
	if err != nil {
		return -1, err
	}
	unix.CloseOnExec(fd)
	return fd, nil
}

func closeKqueue(kq int) error { return unix.Close(kq) }

func setKevent(k *kevent, fd, filter, flags int) { unix.SetKevent(k, fd, filter, flags) }

// timespec is the timeout keventCall takes; the caller keeps one, so that a wait
// allocates nothing.
type timespec = unix.Timespec

// keventCall applies changes and collects up to len(events) events, waiting up to
// timeout nanoseconds (negative: no limit).
func keventCall(kq int, changes, events []kevent, timeout int64, tsBuf *timespec) (int, syscall.Errno) {
	var ts *unix.Timespec
	if timeout >= 0 {
		*tsBuf = unix.NsecToTimespec(timeout)
		ts = tsBuf
	}
	n, err := unix.Kevent(kq, changes, events, ts)
	if err != nil {
		if errno, ok := err.(syscall.Errno); ok {
			return 0, errno
		}
		return 0, unix.EIO
	}
	return n, 0
}

//go:build linux && libkqueue

package kqueue

/*
#include <sys/event.h>
#include <time.h>

// libkqueue frees a closed kqueue on its monitoring thread; this waits for that.
void libkqueue_drain_pending_close(void);
*/
import "C"

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The driver's kqueue and kevent calls on Linux under the test-only build tag
// libkqueue: cgo into libkqueue, a user-space kqueue on epoll. Build it with
// .ci/libkqueue.sh (it applies the patch that keeps EV_CLEAR edges a full event list
// has no room for, as a kernel kqueue does) and point cgo at it:
//
//	CGO_CFLAGS=-I<build>/include CGO_LDFLAGS="<build>/libkqueue.a -lpthread" go test -tags libkqueue ./kqueue/
//
// This is the only cgo in the module, and no normal build includes it.

// kevent is libkqueue's struct kevent (FreeBSD's layout without ext), with Udata as
// an integer: the driver never stores anything there, and an integer keeps the
// structs free of pointers for cgo's pointer checks.
type kevent struct {
	Ident  uint64
	Filter int16
	Flags  uint16
	Fflags uint32
	Data   int64
	Udata  uintptr
}

// The layout must be libkqueue's, field for field.
var (
	_ [unsafe.Sizeof(kevent{}) - C.sizeof_struct_kevent]byte
	_ [C.sizeof_struct_kevent - unsafe.Sizeof(kevent{})]byte
	_ [unsafe.Offsetof(kevent{}.Data) - unsafe.Offsetof(C.struct_kevent{}.data)]byte
	_ [unsafe.Offsetof(C.struct_kevent{}.data) - unsafe.Offsetof(kevent{}.Data)]byte
)

const (
	evfiltRead  = C.EVFILT_READ
	evfiltWrite = C.EVFILT_WRITE
	evfiltUser  = C.EVFILT_USER
	evAdd       = C.EV_ADD
	evDelete    = C.EV_DELETE
	evClear     = C.EV_CLEAR
	evReceipt   = C.EV_RECEIPT
	evError     = C.EV_ERROR
	evEOF       = C.EV_EOF
	noteTrigger = C.NOTE_TRIGGER
	hasUserWake = true
)

func kqueueFd() (int, error) {
	fd, err := C.kqueue()
	if fd < 0 {
		return -1, err
	}
	return int(fd), nil
}

// closeKqueue closes a kqueue and waits until libkqueue has released what it holds
// for it (its epoll instance, its eventfds), which it does on a thread of its own.
func closeKqueue(kq int) error {
	err := unix.Close(kq)
	C.libkqueue_drain_pending_close()
	return err
}

// libkqueue starts a monitoring thread, with descriptors of its own, at the first
// kqueue of the process and keeps them while the process lives. One kqueue made and
// closed here, at start, keeps them from reading as a leak of the first driver in a
// test that counts descriptors.
func init() {
	if fd, err := kqueueFd(); err == nil {
		_ = closeKqueue(fd)
	}
}

func setKevent(k *kevent, fd, filter, flags int) {
	*k = kevent{Ident: uint64(fd), Filter: int16(filter), Flags: uint16(flags)}
}

func openPipe(p *[2]int) error { return unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC) }

// timespec is the timeout keventCall takes; the caller keeps one, so that a wait
// allocates nothing.
type timespec = C.struct_timespec

// keventCall applies changes and collects up to len(events) events, waiting up to
// timeout nanoseconds (negative: no limit).
func keventCall(kq int, changes, events []kevent, timeout int64, tsBuf *timespec) (int, syscall.Errno) {
	var ch, ev *C.struct_kevent
	// SAFETY: the slices hold no Go pointers (Udata is an integer) and stay
	// referenced by the caller for the call, during which libkqueue reads the changes
	// and writes the events.
	if len(changes) > 0 {
		ch = (*C.struct_kevent)(unsafe.Pointer(&changes[0]))
	}
	if len(events) > 0 {
		ev = (*C.struct_kevent)(unsafe.Pointer(&events[0]))
	}
	var ts *C.struct_timespec
	if timeout >= 0 {
		*tsBuf = timespec{tv_sec: C.time_t(timeout / 1e9), tv_nsec: C.long(timeout % 1e9)}
		ts = tsBuf
	}
	n, err := C.kevent(C.int(kq), ch, C.int(len(changes)), ev, C.int(len(events)), ts)
	if n < 0 {
		if errno, ok := err.(syscall.Errno); ok {
			return 0, errno
		}
		return 0, unix.EIO
	}
	return int(n), 0
}

package poller

import (
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The Epoll driver's wake: an eventfd in the epoll set, written at most once per
// Wait by the Wakeup protocol.

// Wake implements Driver.Wake. It returns ErrClosed once Close has begun.
func (d *Epoll) Wake() error {
	if d.k == nil {
		return ErrClosed
	}
	return d.wakeup.Wake()
}

// postWake adds one to the eventfd's count; Wakeup calls it under its read lock, so
// the descriptor is open.
func (d *Epoll) postWake() error {
	// SAFETY: wakeOne is a package variable, alive for the program; write copies it.
	for {
		_, _, errno := unix.Syscall(unix.SYS_WRITE, uintptr(d.wakefd), uintptr(unsafe.Pointer(&wakeOne)), 8)
		switch errno {
		case 0, unix.EAGAIN: // EAGAIN: the count is saturated, so the loop wakes anyway
			return nil
		case unix.EINTR:
			continue
		default:
			return os.NewSyscallError("write", errno)
		}
	}
}

// wakeOne is the 8-byte value added to the eventfd's count.
var wakeOne uint64 = 1

// drainWake reads the eventfd empty, then ends the wake (Wakeup.Drained). It reports
// whether a Wake (rather than only a worker) signalled; worker results are reaped
// either way.
func (d *Epoll) drainWake() bool {
	// SAFETY: wakeBuf lives as long as the driver; read fills it during the call.
	for {
		_, _, errno := unix.Syscall(unix.SYS_READ, uintptr(d.wakefd), uintptr(unsafe.Pointer(&d.wakeBuf[0])), 8)
		if errno != unix.EINTR {
			break
		}
	}
	return d.wakeup.Drained()
}

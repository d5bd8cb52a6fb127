package poller

import (
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The Epoll driver's wake: an eventfd in the epoll set, written at most once per
// Wait thanks to wakePending (see the protocol on Epoll's fields).

// Wake implements Driver.Wake. It returns ErrClosed once Close has begun.
func (d *Epoll) Wake() error {
	if d.k == nil || d.closing.Load() {
		return ErrClosed
	}
	d.userWake.Store(true) // read by the loop's Swap after it cleared wakePending
	return d.signal()
}

// signal is the wake protocol's writer side; the workers call it directly, so that
// their results wake the loop without counting as a Wake.
func (d *Epoll) signal() error {
	if d.wakePending.Swap(true) {
		return nil // coalesced: a write is pending, or the loop is about to return
	}
	d.wakeMu.RLock()
	defer d.wakeMu.RUnlock()
	if d.wakefd < 0 {
		return ErrClosed
	}
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

func (d *Epoll) wake() { _ = d.signal() }

// drainWake reads the eventfd empty, then clears wakePending: in this order, so that
// a Wake arriving between the two is absorbed by the Wait now returning instead of
// being lost (clearing first could leave the flag set with the count at zero, and
// every later Wake would then be coalesced into nothing). It reports whether a Wake
// (rather than only a worker) signalled; worker results are reaped either way.
func (d *Epoll) drainWake() bool {
	// SAFETY: wakeBuf lives as long as the driver; read fills it during the call.
	for {
		_, _, errno := unix.Syscall(unix.SYS_READ, uintptr(d.wakefd), uintptr(unsafe.Pointer(&d.wakeBuf[0])), 8)
		if errno != unix.EINTR {
			break
		}
	}
	d.wakePending.Swap(false) // pairs with the Swap(true) in signal
	return d.userWake.Swap(false)
}

// Package loopclose closes a descriptor through a loop's driver, for the packages that
// own descriptors on the runtime (znet's adapters, zfile's files), so that their Close
// behaves alike: the driver's OpClose first cancels and drains the ops it still has on
// the descriptor, and whatever happens to that op, the descriptor is never left open.
package loopclose

import (
	"context"
	"errors"
	"net"
	"syscall"

	"github.com/zokio/zokio/poller"
	"github.com/zokio/zokio/runtime"
)

// Attempts bounds the closes through the driver that Close tries.
const Attempts = 3

// Close closes fd through l's driver and returns what the close reported.
//
// If l's runtime is closing and refuses the op, direct closes the descriptor (close(2),
// CloseHandle): the driver then completes everything in flight without the caller,
// which holds no op on fd any more. A close the live driver did not run (it refused the
// submission for lack of memory or ring space, or the op was cancelled) is tried
// again, and after Attempts direct closes the descriptor, as Go's net and os never
// leave one open. A close that ran is never repeated: the number is released whatever
// close(2) reported.
func Close(l *runtime.Loop, fd int, direct func(int) error) error {
	for attempt := 1; ; attempt++ {
		op := poller.Op{Code: poller.OpClose, Fd: fd}
		_, err := l.Do(context.Background(), &op)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, net.ErrClosed):
			return direct(fd)
		case !NotRun(err):
			return err
		case attempt == Attempts:
			return direct(fd)
		}
	}
}

// NotRun reports whether a close through the driver failed without running: refused
// at submission (the ring full, memory short) or cancelled.
func NotRun(err error) bool {
	return errors.Is(err, syscall.ECANCELED) || errors.Is(err, syscall.EAGAIN) ||
		errors.Is(err, syscall.EBUSY) || errors.Is(err, syscall.ENOMEM)
}

// Package loopclose closes a descriptor through a loop's driver, for the packages that
// own descriptors on the runtime (znet's adapters and connections, zfile's files), so
// that their Close behaves alike: the driver's OpClose first cancels and drains the ops
// it still has on the descriptor, and whatever happens to that op, the descriptor is
// never left open.
//
// A descriptor a live driver has seen is closed through that driver, never behind its
// back: the readiness drivers (epoll, kqueue) keep per-descriptor state, such as the
// fact that the number is registered, and a close(2) they did not run leaves that
// state to the next descriptor the kernel gives the same number. Such a descriptor,
// handed to another loop by a server's accept, then never reports readiness and its
// connection hangs. So a close the live driver refused is submitted again, after a
// backoff ([Backoff]), until it runs.
package loopclose

import (
	"context"
	"errors"
	"net"
	"syscall"
	"time"

	"github.com/zokio/zokio/poller"
	"github.com/zokio/zokio/runtime"
)

// MaxBackoff is the longest pause between two tries of a refused close.
const MaxBackoff = 100 * time.Millisecond

// Backoff is the pause before try n+1 of a close the live driver did not run (n counts
// from 0): 1 ms, doubling up to MaxBackoff. A refusal (no memory, a full ring) is a
// condition of the moment that no completion announces, hence a timer.
func Backoff(n int) time.Duration {
	if n >= 7 {
		return MaxBackoff
	}
	return min(time.Millisecond<<n, MaxBackoff)
}

// Close closes fd through l's driver and returns what the close reported.
//
// If l's runtime is closing and refuses the op, direct closes the descriptor (close(2),
// closesocket): the driver then completes everything in flight without the caller,
// which holds no op on fd any more. A close the live driver did not run (it refused the
// submission for lack of memory or ring space, or the op was cancelled) is tried again
// after [Backoff], on a timer of l's, until it runs or the runtime closes, so the
// descriptor is neither left open nor closed behind the driver. A close that ran is
// never repeated: the number is released whatever close(2) reported. Call it off l's
// loop: it waits for the close.
func Close(l *runtime.Loop, fd int, direct func(int) error) error {
	for n := 0; ; n++ {
		op := poller.Op{Code: poller.OpClose, Fd: fd}
		_, err := l.Do(context.Background(), &op)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, net.ErrClosed):
			return direct(fd)
		case !NotRun(err):
			return err
		}
		// A timer on l, awaited on the caller's goroutine: a runtime that closes meanwhile
		// drops it (ErrClosed) at once, and the next Do then finds the runtime closed.
		_, _ = l.Sleep(Backoff(n)).Await(context.Background())
	}
}

// NotRun reports whether a close's error means the driver did not run it: refused for
// a condition of the moment (EAGAIN, EBUSY, ENOMEM) or cancelled (ECANCELED).
func NotRun(err error) bool {
	return errors.Is(err, syscall.ECANCELED) || errors.Is(err, syscall.EAGAIN) ||
		errors.Is(err, syscall.EBUSY) || errors.Is(err, syscall.ENOMEM)
}

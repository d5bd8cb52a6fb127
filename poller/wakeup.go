package poller

import (
	"sync"
	"sync/atomic"
)

// Wakeup is the wake protocol of a driver whose loop sleeps in one kernel call (an
// epoll or kevent wait) and is woken through a kernel object: an eventfd, an
// EVFILT_USER event, a pipe. It coalesces signals into at most one post per wait,
// never loses one, tells a [Driver.Wake] from an internal signal (a worker's result),
// and makes Wake fail with ErrClosed, and never touch the object, once Close has
// begun. Epoll and the kqueue driver share it; a driver keeps its Wakeup in its
// struct and must not copy it after Init.
//
// The protocol:
//   - Wake and Signal: pending.Swap(true); only the caller that saw false posts. A
//     Swap that saw true is coalesced into the post already made.
//   - The loop, when its wait reports the object: consume it (read the eventfd or
//     the pipe empty; a triggered EVFILT_USER with EV_CLEAR is consumed by being
//     reported), then call Drained, which clears pending.
//
// Consuming before clearing means a Wake that lands in between is absorbed by the
// Wait now returning, and one after the clear posts again; so pending is true only
// while a post is coming, the object is signalled, or the loop is about to clear it.
// Swaps are read-modify-writes, each reading the one before it in the flag's
// modification order, so every Wake's Swap(true) is synchronized before the loop's
// next Swap(false): everything a goroutine did before Wake happens before the return
// of the Wait it woke (or of the next Wait, if its Swap came after the clear).
//
// user tells a Wake from a Signal (Wait returns early only for the former): Wake
// stores it before its Swap(true); Drained swaps it out after its Swap(false), so it
// sees every Wake whose post it consumed.
type Wakeup struct {
	post    func() error // signals the kernel object; runs under mu's read lock
	pending atomic.Bool
	user    atomic.Bool
	closing atomic.Bool  // set first thing in Close; Wake then returns ErrClosed
	mu      sync.RWMutex // posts (read lock) against Close's release (write lock)
	closed  bool         // guarded by mu: the object is released
}

// Init sets the function that signals the kernel object. post must be safe for
// concurrent use and should treat "already signalled" (EAGAIN on a full eventfd or
// pipe) as success.
func (w *Wakeup) Init(post func() error) { w.post = post }

// Wake implements the protocol for [Driver.Wake]: it makes a concurrent or the next
// wait return, and Drained report it. It returns ErrClosed once Close has begun, and
// the post's error if it failed.
func (w *Wakeup) Wake() error {
	if w.post == nil || w.closing.Load() {
		return ErrClosed
	}
	w.user.Store(true) // read by Drained's Swap after it cleared pending
	return w.Signal()
}

// Signal wakes the loop without counting as a Wake: the readiness core's workers use
// it so that their results are reaped.
func (w *Wakeup) Signal() error {
	if w.pending.Swap(true) {
		return nil // coalesced: a post is pending, or the loop is about to return
	}
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.closed || w.post == nil {
		return ErrClosed
	}
	return w.post()
}

// Drained is called by the loop after it consumed the signalled object. It reports
// whether a Wake (rather than only a Signal) came since the last Drained.
func (w *Wakeup) Drained() bool {
	w.pending.Swap(false) // pairs with the Swap(true) in Signal
	return w.user.Swap(false)
}

// Closing marks the protocol closing: Wake returns ErrClosed from now on. Call it
// first thing in the driver's Close.
func (w *Wakeup) Closing() { w.closing.Store(true) }

// Close waits for posts under way, then runs release (which closes the kernel
// object) with no post able to start. Later Signals return ErrClosed.
func (w *Wakeup) Close(release func() error) error {
	w.closing.Store(true)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	return release()
}

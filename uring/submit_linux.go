package uring

import (
	"os"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Stats counts what a Ring did. The counters are plain integers, not
// atomics: the Ring has a single owner, and only the owner reads them.
type Stats struct {
	Enters          uint64 // io_uring_enter calls
	Submitted       uint64 // SQEs handed to the kernel (to the SQ thread with SetupSQPoll)
	Completions     uint64 // CQEs returned by PeekCQEs
	OverflowFlushes uint64 // enters made by PeekCQEs to flush overflow, run task work or poll (IOPOLL)
	Overflows       uint64 // enters (Submit, PeekCQEs, SubmitAndWait) that found the CQ overflowed: the kernel had completions parked on its overflow list, which the enter flushed
	SQPollWakeups   uint64 // enters made to wake a sleeping SQ thread
	Interrupts      uint64 // enters interrupted by a signal and retried
}

// Stats returns a copy of the ring's counters.
func (r *Ring) Stats() Stats { return r.stats }

// SQFlags returns the flags the kernel currently publishes in the SQ ring.
func (r *Ring) SQFlags() SQRingFlags {
	if r.closed {
		return 0
	}
	// load-acquire: pairs with the kernel's atomic updates of the flags.
	return SQRingFlags(r.sq.kflags.Load())
}

// CQOverflow returns how many CQEs the kernel dropped. With FeatNoDrop it
// stays 0 unless the kernel ran out of memory for its overflow list.
func (r *Ring) CQOverflow() uint32 {
	if r.closed {
		return 0
	}
	// load-acquire: pairs with the kernel's store of the counter.
	return r.cq.koverflow.Load()
}

// SQDropped returns how many invalid SQEs the kernel skipped.
func (r *Ring) SQDropped() uint32 {
	if r.closed {
		return 0
	}
	// load-acquire: pairs with the kernel's store of the counter.
	return r.sq.kdropped.Load()
}

// Submit hands the prepared SQEs to the kernel and returns how many it
// took. Without SetupSQPoll that is one io_uring_enter; a short count
// leaves the rest queued for the next Submit (the kernel stops at an SQE
// that fails to start, unless SetupSubmitAll). With SetupSQPoll it publishes
// the SQEs and enters only when the SQ thread sleeps, returning the number
// published.
//
// Errors are bare syscall.Errno values, so that the hot path never
// allocates: EAGAIN or EBUSY mean the kernel is short of resources or has
// a completion backlog; reap completions and submit again. EINTR is never
// returned: the call is retried, never resubmitting an SQE.
func (r *Ring) Submit() (int, error) {
	if r.closed {
		return 0, os.ErrClosed
	}
	toSubmit, fresh := r.flushSQ()
	if r.params.Flags&SetupSQPoll != 0 {
		r.stats.Submitted += uint64(fresh)
		if toSubmit == 0 || !r.sqNeedsWakeup() {
			return int(fresh), nil
		}
		r.stats.SQPollWakeups++
		_, e := r.enterRetry(0, 0, EnterSQWakeup)
		return int(fresh), errOrNil(e)
	}
	var flags EnterFlags
	if r.needsEnter() {
		flags |= EnterGetEvents // we enter anyway: let the kernel flush too
		// load-acquire: pairs with the kernel's atomic updates of the flags.
		if SQRingFlags(r.sq.kflags.Load())&SQRingCQOverflow != 0 {
			r.stats.Overflows++
		}
	}
	if toSubmit == 0 && flags == 0 {
		return 0, nil
	}
	n, e := r.enterRetry(toSubmit, 0, flags)
	if e != 0 {
		return 0, e
	}
	r.stats.Submitted += uint64(n)
	return n, nil
}

// SubmitAndWait submits like Submit and waits, in the same io_uring_enter,
// until at least minComplete CQEs are ready (never more than the CQ holds).
// timeout < 0 waits without limit; 0 does not wait (it is Submit); > 0
// bounds the wait, using EnterExtArg.
//
// It returns the number of SQEs submitted. When the time runs out first,
// the error is unix.ETIME (a bare errno: compare with ==, no allocation);
// the CQEs that did arrive are still ready for PeekCQEs. A signal that
// interrupts the wait (EINTR) is absorbed: the wait resumes with the time
// left, and no SQE is submitted twice. Other errors are as for Submit.
func (r *Ring) SubmitAndWait(minComplete uint32, timeout time.Duration) (int, error) {
	return r.submitAndWait(minComplete, 0, timeout)
}

// SubmitAndWaitBatch is SubmitAndWait for a batch: when no CQE is ready it sleeps
// until minComplete CQEs are, but for at most minWait; once minWait has passed, any
// CQE ends the wait (the kernel's min-wait, FeatMinTimeout, Linux 6.12). It trades up
// to minWait of latency for fewer wakeups under load. With CQEs already ready it does
// not wait. Without FeatMinTimeout, or with minWait ≤ 0, it is SubmitAndWait(1,
// timeout).
func (r *Ring) SubmitAndWaitBatch(minComplete uint32, minWait, timeout time.Duration) (int, error) {
	if minWait <= 0 || r.params.Features&FeatMinTimeout == 0 || minComplete <= 1 {
		return r.submitAndWait(1, 0, timeout)
	}
	return r.submitAndWait(minComplete, minWait, timeout)
}

func (r *Ring) submitAndWait(minComplete uint32, minWait, timeout time.Duration) (int, error) {
	if r.closed {
		return 0, os.ErrClosed
	}
	if timeout == 0 {
		return r.Submit()
	}
	want := min(minComplete, r.cq.entries)
	// With a min-wait the kernel may end the wait with fewer than want CQEs: any
	// one is then enough, and one already ready means no wait at all.
	enough := want
	if minWait > 0 {
		enough = 1
	}
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	sqpoll := r.params.Flags&SetupSQPoll != 0
	submitted := 0
	for {
		toSubmit, fresh, flags := r.prepareEnter()
		submitted += int(fresh) // nonzero only with SQPOLL
		if toSubmit == 0 && flags == 0 && r.CQReady() >= enough {
			return submitted, nil
		}
		arg, argSize := unsafe.Pointer(nil), uintptr(0)
		switch {
		case timeout > 0:
			left := time.Until(deadline)
			if left <= 0 && toSubmit == 0 {
				return submitted, unix.ETIME
			}
			// The kernel sleeps out the min-wait before it looks at the timeout:
			// a deadline inside the window would be missed by the rest of it.
			arg, argSize = r.waitArgFor(max(left, 0), min(minWait, max(left, 0)))
			flags |= EnterExtArg
		case minWait > 0:
			arg, argSize = r.waitArgFor(-1, minWait)
			flags |= EnterExtArg
		}
		if minWait > 0 && r.CQReady() > 0 {
			want = 1 // submit, and take what is ready without sleeping
		}
		// When it submits anything, the kernel reports the count and
		// swallows a wait error (EINTR, ETIME); when the CQ is not empty it
		// reports success. So the CQ itself says whether the wait is over.
		// load-acquire: pairs with the kernel's atomic updates of the flags. This
		// enter flushes the overflow list too, so it counts as Submit's does.
		if SQRingFlags(r.sq.kflags.Load())&SQRingCQOverflow != 0 {
			r.stats.Overflows++
		}
		n, e := r.enter(toSubmit, want, flags|EnterGetEvents, arg, argSize)
		switch e {
		case 0:
			if !sqpoll {
				submitted += n
				r.stats.Submitted += uint64(n)
			}
			if uint32(n) == toSubmit && r.CQReady() >= enough {
				return submitted, nil // the common case: no second look needed
			}
		case unix.EINTR:
			r.stats.Interrupts++
			continue
		case unix.ETIME:
			if r.CQReady() < enough {
				return submitted, unix.ETIME
			}
		default:
			return submitted, e
		}
		if n == 0 && toSubmit > 0 {
			return submitted, nil // the kernel took nothing and said nothing: do not spin
		}
	}
}

// prepareEnter publishes the SQEs and returns what io_uring_enter needs to
// be told: the count to submit (0 with SQPOLL, where the kernel ignores it)
// and whether to wake the SQ thread; and, with SQPOLL, how many SQEs were
// just handed to the SQ thread.
func (r *Ring) prepareEnter() (toSubmit, fresh uint32, flags EnterFlags) {
	toSubmit, fresh = r.flushSQ()
	if r.params.Flags&SetupSQPoll == 0 {
		return toSubmit, 0, 0
	}
	r.stats.Submitted += uint64(fresh)
	if toSubmit > 0 && r.sqNeedsWakeup() {
		r.stats.SQPollWakeups++
		return 0, fresh, EnterSQWakeup
	}
	return 0, fresh, 0
}

// waitArgFor fills the Ring's EnterExtArg argument with a relative timeout (d < 0:
// none) and a min-wait (0: none; whole microseconds, rounded up).
func (r *Ring) waitArgFor(d, minWait time.Duration) (unsafe.Pointer, uintptr) {
	r.waitArg = GetEventsArg{MinWaitUsec: uint32((minWait + time.Microsecond - 1) / time.Microsecond)}
	if d >= 0 {
		r.waitTS = NewTimespec(d)
		// SAFETY: waitTS and waitArg are fields of the Ring, a heap object that
		// does not move and that the caller keeps alive across the enter.
		r.waitArg.TS = ptr(&r.waitTS)
	}
	return unsafe.Pointer(&r.waitArg), unsafe.Sizeof(r.waitArg)
}

// WaitSQSpace makes room in a full SQ. Without SetupSQPoll it is Submit.
// With it, it wakes the SQ thread if needed and blocks in the kernel
// (EnterSQWait) until the thread has consumed at least one SQE — never a
// busy wait.
func (r *Ring) WaitSQSpace() error {
	if r.params.Flags&SetupSQPoll == 0 {
		_, err := r.Submit()
		return err
	}
	if _, err := r.Submit(); err != nil {
		return err
	}
	if r.SQSpace() > 0 {
		return nil
	}
	_, e := r.enterRetry(0, 0, EnterSQWait)
	return errOrNil(e)
}

// PeekCQEs copies up to len(dst) ready CQEs into dst, oldest first, and
// frees their slots with one store of the CQ head. When none are ready but
// the kernel holds completions back (CQ overflow, or task work to run), it
// enters the kernel once to flush them and looks again, so nothing is left
// behind; an error from that enter is not reported here (the next
// SubmitAndWait meets it). It does not allocate.
func (r *Ring) PeekCQEs(dst []CQE) int {
	if r.closed || len(dst) == 0 {
		return 0
	}
	n := r.copyCQEs(dst)
	if n == 0 && r.needsEnter() {
		r.stats.OverflowFlushes++
		// load-acquire: pairs with the kernel's atomic updates of the flags.
		if SQRingFlags(r.sq.kflags.Load())&SQRingCQOverflow != 0 {
			r.stats.Overflows++
		}
		r.enterRetry(0, 0, EnterGetEvents)
		n = r.copyCQEs(dst)
	}
	return n
}

// CQReady returns how many CQEs are ready to be peeked.
func (r *Ring) CQReady() uint32 {
	if r.closed {
		return 0
	}
	// load-acquire: pairs with the kernel's store-release of the CQ tail.
	return r.cq.ktail.Load() - r.cq.head
}

// copyCQEs moves ready CQEs into dst.
func (r *Ring) copyCQEs(dst []CQE) int {
	cq := &r.cq
	// load-acquire: pairs with the kernel's store-release of the CQ tail,
	// which makes the CQEs before it visible.
	ready := cq.ktail.Load() - cq.head
	n := uint32(min(uint64(ready), uint64(len(dst))))
	if n == 0 {
		return 0
	}
	start := cq.head & cq.mask
	first := min(n, cq.entries-start)
	copy(dst[:first], cq.cqes[start:start+first])
	copy(dst[first:n], cq.cqes[:n-first])
	cq.head += n
	// store-release: hands the slots back to the kernel only after the
	// copies above have read them.
	cq.khead.Store(cq.head)
	r.stats.Completions += uint64(n)
	return int(n)
}

// flushSQ publishes the SQEs prepared since the last flush and returns how
// many SQEs the kernel has yet to consume and how many were just published.
func (r *Ring) flushSQ() (unconsumed, fresh uint32) {
	sq := &r.sq
	fresh = sq.tail - sq.pub
	if fresh != 0 {
		// store-release: publishes the SQEs written before it; pairs with
		// the kernel's load-acquire of the SQ tail.
		sq.ktail.Store(sq.tail)
		sq.pub = sq.tail
	}
	// load-acquire: pairs with the kernel's store-release of the SQ head.
	return sq.tail - sq.khead.Load(), fresh
}

// sqNeedsWakeup reports whether the SQ thread sleeps. It must follow the
// tail store in flushSQ: both are sequentially consistent, pairing with the
// SQ thread, which sets the flag and then re-reads the tail (behind a full
// barrier) before it sleeps. So either it sees our tail or we see its flag;
// reading the flag first could miss both and stall the SQEs.
func (r *Ring) sqNeedsWakeup() bool {
	return SQRingFlags(r.sq.kflags.Load())&SQRingNeedWakeup != 0
}

// needsEnter reports whether completions wait in the kernel until an
// enter with EnterGetEvents: overflowed CQEs, task work (the flag is set
// with SetupTaskrunFlag, which New adds for SetupDeferTaskrun), or, on an
// IOPOLL ring without an SQ thread, always.
func (r *Ring) needsEnter() bool {
	// load-acquire: pairs with the kernel's atomic updates of the flags.
	return r.alwaysEnter || SQRingFlags(r.sq.kflags.Load())&(SQRingCQOverflow|SQRingTaskrun) != 0
}

// enter makes one io_uring_enter call. With the real kernel it makes the system call
// itself: the interface call and x/sys's extra wrapper cost about 15 ns per enter,
// measured in bench/nop, which is 3% of a batch-1 round trip.
func (r *Ring) enter(toSubmit, minComplete uint32, flags EnterFlags, arg unsafe.Pointer, argSize uintptr) (int, syscall.Errno) {
	r.stats.Enters++
	if r.direct {
		// SAFETY: as in sysKernel.enter: arg is nil or points into the Ring, alive
		// across the call. Syscall6, not RawSyscall6, since the wait may block.
		n, _, e := syscall.Syscall6(unix.SYS_IO_URING_ENTER, uintptr(r.enterFd), uintptr(toSubmit),
			uintptr(minComplete), uintptr(flags|r.enterFl), uintptr(arg), argSize)
		return int(n), e
	}
	return r.k.enter(r.enterFd, toSubmit, minComplete, flags|r.enterFl, arg, argSize)
}

// enterRetry makes an io_uring_enter that does not wait with a timeout,
// retrying after EINTR with the count of SQEs still unconsumed (so none is
// submitted twice).
func (r *Ring) enterRetry(toSubmit, minComplete uint32, flags EnterFlags) (int, syscall.Errno) {
	for {
		n, e := r.enter(toSubmit, minComplete, flags, nil, 0)
		if e != unix.EINTR {
			return n, e
		}
		r.stats.Interrupts++
		if toSubmit != 0 {
			// load-acquire: pairs with the kernel's store-release of the
			// SQ head; what it consumed before the signal is not resent.
			toSubmit = r.sq.tail - r.sq.khead.Load()
		}
	}
}

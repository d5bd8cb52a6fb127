//go:build darwin || dragonfly || freebsd || netbsd || openbsd || (linux && libkqueue)

package kqueue

import (
	"errors"
	"fmt"
	"math"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/zokio/zokio/poller"
)

// Driver is the poller.Driver on kqueue. It emulates completions on top of kqueue
// readiness, as the epoll driver does on Linux: socket and pipe ops are tried at once
// on non-blocking descriptors and retried when kqueue reports them ready; file and
// path ops run on a small bounded pool of worker goroutines. See the package
// documentation of poller for the contract it keeps.
//
// Descriptors that ops name are put in non-blocking mode, and the driver caches what
// it learned about each (kind, registration) until an OpClose through the driver, or
// until accept or openat through the driver returns that number again.
//
// A Driver is used only by the goroutine that created it, except Wake, which is safe
// for concurrent use by multiple goroutines. It must be created by New and must not be
// copied after first use.
type Driver struct {
	core poller.Core
	kq   int

	// changes are registrations not yet handed to the kernel: two per armed
	// descriptor, flushed by the next poll (see flush). receipts is the event list
	// of that flush, exactly as long as changes.
	changes  []kevent
	receipts []kevent
	events   []kevent
	del      []kevent // Disarm's EV_DELETE pair and its receipts
	delRcpt  []kevent

	wakeup  poller.Wakeup
	trigger []kevent // the EVFILT_USER trigger; used by one poster at a time (Wakeup)
	pipeR   int      // the wake pipe's ends, -1 when the wake is EVFILT_USER
	pipeW   int
	pipeBuf []byte
	wakeOne []byte
	ts      []timespec // the loop's kevent timeout (one element)
}

// The kernel's buffers are allocations of their own, never fields of Driver: cgo's
// pointer check (under libkqueue) looks at the whole allocation a pointer is in, and
// Driver holds Go pointers.

var (
	_ poller.Driver           = (*Driver)(nil)
	_ poller.StatsReporter    = (*Driver)(nil)
	_ poller.InFlightReporter = (*Driver)(nil)
)

// pipeWake makes New wake through a pipe even where EVFILT_USER exists, so that the
// NetBSD and OpenBSD wake runs in tests; only tests set it.
var pipeWake bool

// wakeIdent is the EVFILT_USER event's identifier; user events have a namespace of
// their own, apart from descriptors.
const wakeIdent = 1

// New creates a kqueue driver: a kqueue and its wake (an EVFILT_USER event, or a pipe
// where there is none). It starts no goroutine. On failure it releases what it
// created and returns the error.
func New(cfg Config) (*Driver, error) {
	n := cfg.MaxEvents
	if n == 0 {
		n = 256
	}
	if n < 0 || n > math.MaxInt32 {
		return nil, fmt.Errorf("kqueue: negative or too large MaxEvents: %w", syscall.EINVAL)
	}
	d := &Driver{kq: -1, pipeR: -1, pipeW: -1, events: make([]kevent, n),
		del: make([]kevent, 2), delRcpt: make([]kevent, 2), trigger: make([]kevent, 1),
		pipeBuf: make([]byte, 64), wakeOne: make([]byte, 1), ts: make([]timespec, 1)}
	err := d.core.Init(backend{d}, "kqueue", poller.CoreConfig{
		Workers: cfg.Workers, MaxQueuedFileOps: cfg.MaxQueuedFileOps,
		MaxAttemptsPerFd: cfg.MaxAttemptsPerFd, MaxCompletionsPerWait: cfg.MaxCompletionsPerWait,
	})
	if err != nil {
		return nil, err
	}
	if d.kq, err = kqueueFd(); err != nil {
		return nil, os.NewSyscallError("kqueue", err)
	}
	var wake [1]kevent
	if hasUserWake && !pipeWake {
		setKevent(&wake[0], wakeIdent, evfiltUser, evAdd|evClear|evReceipt)
		setKevent(&d.trigger[0], wakeIdent, evfiltUser, 0)
		d.trigger[0].Fflags = noteTrigger
	} else {
		var p [2]int
		if err := openPipe(&p); err != nil {
			closeKqueue(d.kq)
			return nil, os.NewSyscallError("pipe", err)
		}
		d.pipeR, d.pipeW = p[0], p[1]
		// Level-triggered: the pipe is reported until the loop reads it empty.
		setKevent(&wake[0], d.pipeR, evfiltRead, evAdd|evReceipt)
	}
	var rcpt [1]kevent
	if err := receipts(d.kq, wake[:], rcpt[:]); err != nil {
		d.closeFds()
		return nil, os.NewSyscallError("kevent", err)
	}
	d.wakeup.Init(d.postWake)
	return d, nil
}

// receipts applies changes made with EV_RECEIPT, at once, and returns the first
// error among them. rcpt must be exactly as long as changes: a kevent call whose
// event list has room only for the receipts returns without waiting for events.
func receipts(kq int, changes, rcpt []kevent) error {
	var ts [1]timespec
	n, errno := keventCall(kq, changes, rcpt, 0, &ts[0])
	if errno != 0 {
		return errno
	}
	for i := range n {
		if e := rcpt[i]; int(e.Flags)&evError != 0 && e.Data != 0 {
			return syscall.Errno(e.Data)
		}
	}
	return nil
}

func (d *Driver) closeFds() error {
	var errs []error
	for _, fd := range []*int{&d.pipeR, &d.pipeW} {
		if *fd >= 0 {
			errs = append(errs, unix.Close(*fd))
			*fd = -1
		}
	}
	if d.kq >= 0 {
		errs = append(errs, closeKqueue(d.kq))
		d.kq = -1
	}
	return errors.Join(errs...)
}

// Submit implements poller.Driver.Submit.
func (d *Driver) Submit(op *poller.Op) error { return d.core.Submit(op) }

// Cancel implements poller.Driver.Cancel.
func (d *Driver) Cancel(op *poller.Op) error { return d.core.Cancel(op) }

// Wait implements poller.Driver.Wait.
func (d *Driver) Wait(timeout time.Duration) (int, error) { return d.core.Wait(timeout) }

// NewBufferGroup implements poller.Driver.NewBufferGroup. The buffers are one
// anonymous mapping, unmapped by Close.
func (d *Driver) NewBufferGroup(count, size int) (poller.BufferGroup, error) {
	return d.core.NewBufferGroup(count, size)
}

// Info reports the name "kqueue" and no optional features: completions are emulated,
// file I/O occupies a worker thread per running op, and there are no fixed files,
// fixed buffers, zero-copy sends, buffer rings, SQ polling or MSG_RING.
func (d *Driver) Info() poller.Info { return poller.Info{Name: "kqueue"} }

// Stats implements poller.StatsReporter: ops submitted, completions delivered, kevent
// calls (Enters) and Wake signals consumed.
func (d *Driver) Stats() poller.Stats {
	if d == nil {
		return poller.Stats{}
	}
	return *d.core.Counters()
}

// InFlight implements poller.InFlightReporter.
func (d *Driver) InFlight(dst []poller.InFlightOp) []poller.InFlightOp {
	return d.core.InFlight(dst)
}

// Wake implements poller.Driver.Wake. It returns ErrClosed once Close has begun.
func (d *Driver) Wake() error { return d.wakeup.Wake() }

// postWake triggers the user event, or writes a byte into the pipe; Wakeup calls it
// under its read lock, so the descriptors are open.
func (d *Driver) postWake() error {
	if d.pipeW < 0 {
		for {
			_, errno := keventCall(d.kq, d.trigger, nil, -1, nil)
			switch errno {
			case 0:
				return nil
			case unix.EINTR:
				continue
			default:
				return os.NewSyscallError("kevent", errno)
			}
		}
	}
	for {
		_, err := unix.Write(d.pipeW, d.wakeOne)
		switch err {
		case nil, unix.EAGAIN: // EAGAIN: the pipe is full, so the loop wakes anyway
			return nil
		case unix.EINTR:
			continue
		default:
			return os.NewSyscallError("write", err)
		}
	}
}

// Close implements poller.Driver.Close: it completes every op still in flight (Done
// runs inside Close), stops the workers, unmaps the buffer groups and closes the
// kqueue and the wake pipe. Later calls return ErrClosed.
//
// Ops complete with ECANCELED, except file ops a worker is already running and OpClose
// ops under way, which report their real result; Close waits for those.
func (d *Driver) Close() error {
	if d.core.Closed() {
		return poller.ErrClosed
	}
	d.wakeup.Closing()
	d.core.Shutdown()
	if err := d.wakeup.Close(d.closeFds); err != nil {
		return os.NewSyscallError("close", err)
	}
	return nil
}

// backend is the Driver's side of the readiness core (poller.Backend), a distinct
// type so that the Driver's own method set stays poller.Driver's.
type backend struct{ d *Driver }

// Owns implements poller.Backend.Owns.
func (b backend) Owns(fd int) bool {
	d := b.d
	return fd == d.kq || (fd >= 0 && (fd == d.pipeR || fd == d.pipeW))
}

// Signal implements poller.Backend.Signal.
func (b backend) Signal() error { return b.d.wakeup.Signal() }

// Arm implements poller.Backend.Arm: both filters, once, with EV_CLEAR. The changes
// go to the kernel at the next Poll; a refusal fails fd's ops there (Core.Fail).
func (b backend) Arm(fd int, r *poller.Registration) syscall.Errno {
	if r.Armed {
		return 0
	}
	d := b.d
	const flags = evAdd | evClear | evReceipt
	d.changes = append(d.changes, kevent{}, kevent{})
	// WRITE before READ: libkqueue merges a descriptor's filters into one epoll
	// registration and keeps only the IN/OUT bits of the one already there, so READ
	// added first would lose EPOLLRDHUP, and with it EV_EOF on data that arrives with
	// the peer's shutdown. The order means nothing to a kernel kqueue.
	setKevent(&d.changes[len(d.changes)-2], fd, evfiltWrite, flags)
	setKevent(&d.changes[len(d.changes)-1], fd, evfiltRead, flags)
	r.Armed, r.Added = true, true
	return 0
}

// Disarm implements poller.Backend.Disarm. A registration still queued is dropped;
// one the kernel has is deleted at once, before the core closes fd: a kqueue forgets
// a closed descriptor by itself, but libkqueue's emulation would keep its record.
func (b backend) Disarm(fd int, r *poller.Registration) {
	if !r.Added {
		return
	}
	*r = poller.Registration{}
	d := b.d
	kept, dropped := d.changes[:0], false
	for _, c := range d.changes {
		if uint64(c.Ident) == uint64(fd) {
			dropped = true
			continue
		}
		kept = append(kept, c)
	}
	d.changes = kept
	if dropped {
		return // never reached the kernel
	}
	setKevent(&d.del[0], fd, evfiltRead, evDelete|evReceipt)
	setKevent(&d.del[1], fd, evfiltWrite, evDelete|evReceipt)
	if evReceipt == 0 {
		// No receipts (NetBSD): one change per call, since the first error ends a call
		// without an event list; and none, which could swallow another descriptor's edge.
		_, _ = keventCall(d.kq, d.del[:1], nil, 0, &d.ts[0])
		_, _ = keventCall(d.kq, d.del[1:], nil, 0, &d.ts[0])
		return
	}
	_ = receipts(d.kq, d.del, d.delRcpt) // ENOENT, EBADF: nothing to remove
}

// flush hands the queued registrations to the kernel, in kevent calls whose event
// lists are exactly as long as their changes: with EV_RECEIPT every change comes back
// as a receipt (EV_ERROR, data the errno or 0) and the call returns without waiting
// for events. A refused change fails the ops of its descriptor (Core.Fail). Where
// there is no EV_RECEIPT (NetBSD) only refusals come back, with events that happen
// to be pending; dispatch handles both. It reports whether the loop was woken, and
// whether any readiness was reported.
func (b backend) flush() (woken, ready bool, err error) {
	d := b.d
	for len(d.changes) > 0 {
		// In batches no longer than the event list, so that receipts fit.
		c := d.changes[:min(len(d.changes), len(d.events))]
		if cap(d.receipts) < len(c) {
			d.receipts = make([]kevent, len(c))
		}
		rc := d.receipts[:len(c)]
		n, errno := keventCall(d.kq, c, rc, 0, &d.ts[0])
		switch errno {
		case 0:
		case unix.EINTR:
			continue
		default:
			return woken, ready, os.NewSyscallError("kevent", errno)
		}
		d.core.Counters().Enters++
		d.changes = d.changes[:copy(d.changes, d.changes[len(c):])]
		w, r := b.dispatch(rc[:n])
		woken, ready = woken || w, ready || r
	}
	return woken, ready, nil
}

// Poll implements poller.Backend.Poll.
func (b backend) Poll(timeout int64) (bool, error) {
	d := b.d
	woken, ready, err := b.flush()
	if err != nil {
		return false, err
	}
	if woken || ready {
		timeout = 0
	}
	d.core.Counters().Enters++
	n, errno := keventCall(d.kq, nil, d.events, timeout, &d.ts[0])
	switch errno {
	case 0:
	case unix.EINTR:
		return woken, nil
	default:
		return false, os.NewSyscallError("kevent", errno)
	}
	w, _ := b.dispatch(d.events[:n])
	return woken || w, nil
}

// dispatch passes events to the core: readiness as poll(2) bits (Core.Ready), a
// refused change as its errno (Core.Fail), the wake to Wakeup. It reports whether the
// wake fired and whether any readiness was reported.
func (b backend) dispatch(events []kevent) (woken, ready bool) {
	d := b.d
	for i := range events {
		e := &events[i]
		filter, flags := int(e.Filter), int(e.Flags)
		switch {
		case hasUserWake && filter == evfiltUser:
			if d.wakeup.Drained() { // a triggered EV_CLEAR user event is consumed by its report
				d.core.Counters().Wakeups++
				woken = true
			}
			continue
		case d.pipeR >= 0 && uint64(e.Ident) == uint64(d.pipeR) && flags&evError == 0:
			if d.drainPipe() {
				d.core.Counters().Wakeups++
				woken = true
			}
			continue
		}
		fd := int(e.Ident)
		if flags&evError != 0 {
			if e.Data != 0 {
				d.core.Fail(fd, syscall.Errno(e.Data))
			}
			continue
		}
		var revents uint32
		var connErr syscall.Errno
		switch filter {
		case evfiltRead:
			revents = unix.POLLIN
			if flags&evEOF != 0 {
				revents |= poller.PollRdHup
			}
		case evfiltWrite:
			revents = unix.POLLOUT
		default:
			continue
		}
		if flags&evEOF != 0 && e.Fflags != 0 {
			// A socket error (a refused or reset connection); for a connect, its errno.
			revents |= unix.POLLERR
			connErr = syscall.Errno(e.Fflags)
		}
		ready = true
		d.core.Ready(fd, revents, connErr)
	}
	return woken, ready
}

// drainPipe reads the wake pipe empty, then ends the wake (Wakeup.Drained).
func (d *Driver) drainPipe() bool {
	for {
		n, err := unix.Read(d.pipeR, d.pipeBuf)
		if err == unix.EINTR || (err == nil && n == len(d.pipeBuf)) {
			continue
		}
		break
	}
	return d.wakeup.Drained()
}

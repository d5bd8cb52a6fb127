//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package poller

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// The descriptor side of the readiness core: a dense table of per-descriptor state,
// its FIFO queues, readiness bookkeeping, OpPoll and OpClose's drain.

// Queues of a descriptor. Readers and writers consume readiness in FIFO order;
// pollers only observe it, so every poller sees every event.
const (
	dirRead = iota
	dirWrite
	dirPoll
	ndirs
)

const (
	readyRead  uint8 = 1 << dirRead
	readyWrite uint8 = 1 << dirWrite
)

// maxFD bounds the descriptor table; a larger descriptor gets EBADF. Linux caps
// RLIMIT_NOFILE at fs.nr_open, 1<<20 by default.
const maxFD = 1 << 24

// fdKind is how the core drives a descriptor, learned once (fstat) and cached.
type fdKind uint8

const (
	kindUnknown fdKind = iota
	kindPoll           // datagram socket, character device: non-blocking, readiness-driven
	kindFile           // regular file, block device, directory: worker pool
	// kindStream is kindPoll for byte streams (SOCK_STREAM sockets, pipes, FIFOs),
	// where a read that returns less than asked has drained the descriptor: with
	// edge-triggered registration, later data raises a new edge, so the core waits for
	// it instead of reading again to see EAGAIN. One recv per message instead of two
	// (bench/echo: 1.93 → 0.90 recvfrom per message).
	kindStream
)

// readiness reports whether the descriptor is driven by readiness (not by workers).
func (k fdKind) readiness() bool { return k == kindPoll || k == kindStream }

// fdState is the core's record of one descriptor, indexed by its number. Cached facts
// (kind, reg) hold from the first op on the descriptor until an OpClose through the
// driver completes, or the driver itself gets the number back from accept or openat;
// a descriptor closed behind the driver's back must not be reused with it before then.
type fdState struct {
	q        [ndirs]opList
	closer   int32 // the OpClose draining this descriptor, 0 none
	workOps  int32 // ops using it on (or waiting for) the worker pool
	kind     fdKind
	ready    uint8         // readyRead, readyWrite: reported ready and not yet used up
	reg      Registration  // the backend's record; reset with the number
	connErr  syscall.Errno // a failed connect's errno as the backend reported it, 0 none
	listed   bool          // on emul.ready
	draining bool          // startClose is cancelling its ops
	// hup: an edge reported that the peer shut its writing half (or a hangup or an
	// error). A short read then no longer means "wait for the next edge": the end
	// of the stream behind the data raises none.
	hup bool
	// streaming: the last buffer-select receive filled its buffer(s), so more is
	// likely waiting and the next one fills several at once (see recvBatchBufs).
	streaming bool
}

func (f *fdState) waiting() bool {
	return f.q[dirRead].head != 0 || f.q[dirWrite].head != 0 || f.q[dirPoll].head != 0
}

// opList is an intrusive doubly linked FIFO of slots (through slot.prev and next).
type opList struct{ head, tail int32 }

func (e *emul) pushBack(l *opList, idx int32) {
	s := e.slot(idx)
	s.prev, s.next = l.tail, 0
	if l.tail != 0 {
		e.slot(l.tail).next = idx
	} else {
		l.head = idx
	}
	l.tail = idx
}

func (e *emul) unlink(l *opList, idx int32) {
	s := e.slot(idx)
	if s.prev != 0 {
		e.slot(s.prev).next = s.next
	} else {
		l.head = s.next
	}
	if s.next != 0 {
		e.slot(s.next).prev = s.prev
	} else {
		l.tail = s.prev
	}
	s.prev, s.next = 0, 0
}

// fdFor returns the state of a descriptor that ops may use: EBADF for a number out of
// range, one of the backend's own, or one with an OpClose under way (in io_uring the
// close would already have released it).
func (e *emul) fdFor(fd int) (*fdState, syscall.Errno) {
	if fd < 0 || fd >= maxFD || e.k.Owns(fd) {
		return nil, unix.EBADF
	}
	f := e.fds.at(fd)
	if f.closer != 0 {
		return nil, unix.EBADF
	}
	return f, 0
}

func (e *emul) kindOf(fd int, f *fdState) (fdKind, syscall.Errno) {
	if f.kind != kindUnknown {
		return f.kind, 0
	}
	k, errno := classify(fd, &e.sc.stat)
	if errno != 0 {
		return kindUnknown, errno
	}
	f.kind = k
	return k, 0
}

// fdBorn resets the cached facts of a descriptor number the kernel just handed to the
// driver (accept, openat): whatever the number meant before is gone.
func (e *emul) fdBorn(fd int, kind fdKind) {
	if fd < 0 || fd >= maxFD {
		return
	}
	f := e.fds.at(fd)
	f.kind, f.reg, f.ready, f.hup, f.connErr = kind, Registration{}, 0, false, 0
	f.closer = 0 // the number is new: an old close of it is over, whatever is reported later
}

func (e *emul) enqueue(idx int32, s *slot, fd int, f *fdState, dir int) {
	s.state, s.fd, s.dir = stQueued, int32(fd), uint8(dir)
	e.pushBack(&f.q[dir], idx)
}

// tryOrQueue tries op idx at once when nothing is queued ahead of it, and otherwise
// (or on EAGAIN) queues it and makes sure readiness will be reported.
func (e *emul) tryOrQueue(idx int32, s *slot, fd int, f *fdState, dir int) {
	if f.q[dir].head == 0 {
		budget := e.cfg.perFd
		switch e.attempt(idx, s, &budget) {
		case tryDone:
			return
		case tryMore:
			e.enqueue(idx, s, fd, f, dir)
			e.markReady(fd, f, 1<<dir)
			return
		}
	}
	e.enqueue(idx, s, fd, f, dir)
	if errno := e.k.Arm(fd, &f.reg); errno != 0 {
		e.finish(idx, -int32(errno), 0, 0)
	}
}

// onReady records readiness that the backend reported, as poll(2) revents bits
// (PollRdHup for the peer's shutdown of its writing half). Pollers are told at once;
// readers and writers run in runReady.
func (e *emul) onReady(fd int, revents uint32) {
	f := e.fds.peek(fd)
	if f == nil {
		return
	}
	if f.q[dirPoll].head != 0 {
		e.notifyPollers(f, revents)
	}
	var bits uint8
	if revents&(PollRdHup|PollHup|PollErr) != 0 {
		f.hup = true
	}
	if revents&(PollIn|PollRdHup|PollHup|PollErr) != 0 {
		bits |= readyRead
	}
	if revents&(PollOut|PollHup|PollErr) != 0 {
		bits |= readyWrite
	}
	e.markReady(fd, f, bits)
}

func (e *emul) markReady(fd int, f *fdState, bits uint8) {
	f.ready |= bits
	if !f.listed {
		f.listed = true
		e.ready = append(e.ready, int32(fd))
	}
}

// runReady gives every listed descriptor one bounded turn. A direction that used up
// its budget stays ready and the descriptor stays listed for the next Wait; one that
// hit EAGAIN with ops still queued is re-armed (a no-op for edge-triggered epoll).
func (e *emul) runReady() {
	if len(e.ready) == 0 {
		return
	}
	list := e.ready
	e.ready = e.spare[:0]
	for _, fd32 := range list {
		fd := int(fd32)
		f := e.fds.at(fd)
		f.listed = false
		for dir := dirRead; dir <= dirWrite; dir++ {
			if f.ready&(1<<dir) != 0 {
				e.drain(fd, f, dir)
			}
		}
		switch {
		case f.ready != 0:
			e.markReady(fd, f, 0)
		case f.waiting():
			if errno := e.k.Arm(fd, &f.reg); errno != 0 {
				e.failQueued(f, errno)
			}
		}
	}
	e.spare = list[:0]
}

// drain retries the ops queued in one direction, head first, until one would block,
// the queue is empty, or the budget is spent.
func (e *emul) drain(fd int, f *fdState, dir int) {
	bit := uint8(1) << dir
	budget := e.cfg.perFd
	for f.q[dir].head != 0 {
		if budget <= 0 {
			return
		}
		idx := f.q[dir].head
		switch e.attempt(idx, e.slot(idx), &budget) {
		case tryWait:
			f.ready &^= bit
			return
		case tryMore:
			return
		}
	}
	f.ready &^= bit
}

func (e *emul) failQueued(f *fdState, errno syscall.Errno) {
	for dir := range f.q {
		for f.q[dir].head != 0 {
			e.finish(f.q[dir].head, -int32(errno), 0, 0)
		}
	}
}

func pollMask(op *Op) uint32 { return op.Arg | PollErr | PollHup }

func (e *emul) notifyPollers(f *fdState, revents uint32) {
	for idx := f.q[dirPoll].head; idx != 0; {
		s := e.slot(idx)
		next := s.next
		if m := revents & pollMask(s.op); m != 0 {
			if s.op.Flags&FlagMultishot != 0 {
				e.post(idx, int32(m), 0, 0)
			} else {
				e.finish(idx, int32(m), 0, 0)
			}
		}
		idx = next
	}
}

// startPoll reports the descriptor's current state at once (poll(2) with a zero
// timeout), then waits for readiness events. A multishot poll reports every event
// that matches until cancelled.
func (e *emul) startPoll(idx int32, s *slot, op *Op) {
	f, errno := e.fdFor(op.Fd)
	var revents int16
	if errno == 0 {
		revents, errno = ioPoll(op.Fd, int16(op.Arg), &e.sc.pfd)
	}
	if errno == 0 && revents&PollNval != 0 {
		errno = unix.EBADF
	}
	if errno != 0 {
		e.finish(idx, -int32(errno), 0, 0)
		return
	}
	if m := uint32(uint16(revents)) & pollMask(op); m != 0 {
		if op.Flags&FlagMultishot == 0 {
			e.finish(idx, int32(m), 0, 0)
			return
		}
		e.post(idx, int32(m), 0, 0)
	}
	e.enqueue(idx, s, op.Fd, f, dirPoll)
	if errno := e.k.Arm(op.Fd, &f.reg); errno != 0 {
		e.finish(idx, -int32(errno), 0, 0)
	}
}

// startClose applies the descriptor lifecycle discipline (docs/RELIABILITY.md traps 4 and
// 15): every op waiting on the descriptor completes with ECANCELED, file ops not yet
// picked by a worker too; the close waits for running worker ops; then the
// descriptor leaves the interest set, close(2) runs, and only then does the OpClose
// complete. Ops submitted on the descriptor meanwhile get EBADF (fdFor).
func (e *emul) startClose(idx int32, s *slot, op *Op) {
	fd := op.Fd
	f, errno := e.fdFor(fd)
	if errno != 0 {
		e.finish(idx, -int32(errno), 0, 0)
		return
	}
	s.state = stClosing
	f.closer = idx
	f.draining = true
	canceled := -int32(unix.ECANCELED)
	for dir := range f.q {
		for f.q[dir].head != 0 {
			e.finish(f.q[dir].head, canceled, 0, 0)
		}
	}
	for i := e.pend.head; i != 0; {
		ps := e.slot(i)
		next := ps.next
		if int(ps.fd) == fd {
			e.finish(i, canceled, 0, 0)
		}
		i = next
	}
	for j := range e.pool.jobs {
		jb := &e.pool.jobs[j]
		if jb.inUse && int(jb.fd) == fd && e.pool.cancel(int32(j)) {
			e.finish(jb.slot, canceled, 0, 0)
		}
	}
	f.draining = false
	e.maybeClose(fd)
}

// maybeClose closes fd if an OpClose waits for it and no worker op uses it any more.
func (e *emul) maybeClose(fd int) {
	f := e.fds.at(fd)
	if f.closer == 0 || f.draining || f.workOps > 0 {
		return
	}
	if s := e.slot(f.closer); s.state == stClosing {
		e.closeNow(fd, f, f.closer, s)
	}
}

func (e *emul) closeNow(fd int, f *fdState, idx int32, s *slot) {
	e.k.Disarm(fd, &f.reg)
	// close(2) runs here, on the loop, for files too: a close on a worker frees the
	// number before the loop hears of it, and in that window the number can come back
	// (an accept, an openat, a socket(2) made elsewhere) while the driver still holds
	// it as closing and refuses every op on it. The cost: a close that flushes (NFS,
	// FUSE) blocks the loop for that long.
	e.closeDone(idx, closeRes(fd))
}

// closeDone completes an OpClose once close(2) returned: the number is free now, so
// nothing cached about it may survive.
func (e *emul) closeDone(idx int32, res int32) {
	f := e.fds.at(e.slot(idx).op.Fd)
	if f.closer == idx { // else the number was handed out again meanwhile: not ours
		listed := f.listed
		*f = fdState{listed: listed}
	}
	e.finish(idx, res, 0, 0)
}

// workDone drops a finished worker op from its descriptor's count and returns that
// descriptor, or -1.
func (e *emul) workDone(s *slot) int {
	if s.fd < 0 {
		return -1
	}
	e.fds.at(int(s.fd)).workOps--
	return int(s.fd)
}

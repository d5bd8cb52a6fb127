package uring

import (
	"golang.org/x/sys/unix"

	"github.com/zokio/zokio/poller"
)

// reap copies up to MaxBatch ready completions out of the ring (advancing its head once)
// and dispatches them. It returns the number delivered to ops.
func (d *Driver) reap() int {
	n := 0
	if len(d.deferred) > 0 {
		n += d.dispatchAll(d.deferred)
		d.deferred = d.deferred[:0]
	}
	got := d.ring.PeekCQEs(d.cqes)
	return n + d.dispatchAll(d.cqes[:got])
}

// reapDeferred pulls completions out of the ring without dispatching them, to give the
// kernel room when it refuses submissions; the next Wait dispatches them.
func (d *Driver) reapDeferred() {
	var buf [64]CQE
	got := d.ring.PeekCQEs(buf[:])
	if got == 0 {
		// Nothing to make room with: wait for the kernel to post something. This
		// blocks in the kernel, never spins.
		_, _ = d.ring.SubmitAndWait(1, -1)
		got = d.ring.PeekCQEs(buf[:])
	}
	d.deferred = append(d.deferred, buf[:got]...)
}

func (d *Driver) dispatchAll(cqes []CQE) int {
	d.dispatching = true
	defer func() { d.dispatching = false }()
	n := 0
	for i := range cqes {
		if d.dispatch(&cqes[i]) {
			n++
		}
	}
	return n
}

// dispatch routes one completion. It returns true if an op's Done was called.
func (d *Driver) dispatch(c *CQE) bool {
	tag, gen, idx := splitUserData(c.UserData)
	switch tag {
	case tagWake:
		d.onWake()
		return false
	case tagOp:
	case tagSplicePoll:
		d.splicePolled(gen, idx, c.Res)
		return false
	default:
		return false // cancel requests, linked timeouts
	}
	if idx < 0 || int(idx) >= len(d.slots.s) {
		d.stats.Stale++
		return false
	}
	s := d.slots.at(idx)
	if s.gen != gen || s.state != stateSubmitted {
		d.stats.Stale++
		return false
	}
	res := c.Res
	if res == -int32(unix.ECANCELED) && s.flags&(slotTimeout|slotCancelled) == slotTimeout {
		res = -int32(unix.ETIME) // its LINK_TIMEOUT fired, nobody called Cancel
	}
	if res == -int32(unix.ECANCELED) && s.op.Code == poller.OpSplice && s.sc != nil && s.sc.pollRes < 0 {
		res = s.sc.pollRes // its poll failed (EBADF ...), which cancelled it
	}
	var flags poller.ResultFlags
	if c.Flags.More() {
		flags |= poller.ResMore
	}
	if c.Flags.Notif() {
		flags |= poller.ResNotif
	}
	var bid uint16
	var boff uint32
	if c.Flags.HasBuffer() {
		flags |= poller.ResBuffer
		bid = c.Flags.BufID()
		if g := d.group(s.op.Group); g != nil {
			boff = g.handOut(bid, res, c.Flags.BufMore())
		}
	}
	op := s.op
	op.BufOff = boff
	if flags&poller.ResMore == 0 && op.Flags&poller.FlagMultishot != 0 && d.rearm(idx, s, res) {
		flags |= poller.ResMore
	}
	if flags&poller.ResMore == 0 {
		d.finish(idx, op)
	}
	d.stats.Completions++
	op.Complete(res, flags, bid)
	return true
}

// rearm re-submits a multishot op that the kernel ended although it succeeded (CQ
// overflow ends multishot requests, docs/RELIABILITY.md trap 5), so that its user sees one
// stream until it cancels or an error comes. It returns false, and the completion is
// final, for errors, end of file, a requested cancellation or a closing driver.
func (d *Driver) rearm(idx int32, s *slot, res int32) bool {
	ok := res > 0 || (res == 0 && s.op.Code == poller.OpAccept)
	if !ok || s.flags&slotCancelled != 0 || d.closing {
		return false
	}
	sqe := d.nextSQE()
	d.fill(sqe, idx, s.op)
	sqe.SetUserData(s.op.Ref)
	sqe.SetFlags(sqeFlags(s.op))
	d.stats.Rearms++
	return true
}

// finish releases slot idx at its op's final completion: it copies out the results the
// kernel left in scratch and drops the op's descriptor reference.
func (d *Driver) finish(idx int32, op *poller.Op) {
	s := d.slots.at(idx)
	if op.Code == poller.OpRecvmsg && s.sc != nil {
		if op.Addr != nil {
			op.Addr.Len = s.sc.msg.Namelen
		}
		op.Len, op.MsgFlags = int64(s.sc.msg.Controllen), s.sc.msg.Flags
	}
	counted := s.flags&slotFdRef != 0
	if op.Code == poller.OpSplice {
		delete(d.splices, idx)
	}
	d.slots.release(idx)
	if counted {
		d.unref(op.Fd)
	}
}

// finishEarly records a result known without the kernel; Wait delivers it.
func (d *Driver) finishEarly(idx int32, res int32) {
	s := d.slots.at(idx)
	s.state, s.res = stateReady, res
	d.ready = append(d.ready, idx)
}

// deliverReady completes the ops in the ready list.
func (d *Driver) deliverReady() int {
	if len(d.ready) == 0 {
		return 0
	}
	d.dispatching = true
	defer func() { d.dispatching = false }()
	n := 0
	for len(d.ready) > 0 {
		idx := d.ready[0]
		d.ready = d.ready[1:]
		s := d.slots.at(idx)
		op, res := s.op, s.res
		d.finish(idx, op)
		d.stats.Completions++
		op.Complete(res, 0, 0)
		n++
	}
	d.ready = d.ready[:0:cap(d.ready)]
	return n
}

// Wake completions: re-arm the eventfd read. The order (pending=false, then re-arm) is
// the waker protocol's; see waker.
func (d *Driver) onWake() {
	if d.wake.cut {
		if d.wake.seen++; d.wake.seen < 2 {
			return // the pair ends with its second CQE, whichever it is
		}
		d.wake.seen = 0
	}
	d.wake.armed = false
	d.wake.woken = true
	d.stats.Wakeups++
	d.wake.pending.Store(false)
	if !d.closing {
		_ = d.armWake()
	}
}

func (d *Driver) armWake() error {
	if d.wake.cut {
		for d.ring.SQSpace() < 2 { // never split the linked pair across a flush
			if _, err := d.ring.Submit(); err != nil {
				d.reapDeferred()
			}
		}
	}
	sqe := d.nextSQE()
	// SAFETY: buf is inside the heap-allocated Driver, which Close keeps alive until
	// the read's completion has been reaped.
	sqe.PrepRead(d.wake.fd, d.wake.buf[:], 0)
	sqe.SetUserData(userData(tagWake, 0, wakeRead))
	if d.wake.cut {
		sqe.SetFlags(SQEIOLink)
		t := d.nextSQE()
		// SAFETY: zero is inside the Driver too, read by the kernel until the pair's
		// final CQE (the timer's), which Close waits for.
		t.PrepTimeout(&d.wake.zero, 0, 0)
		t.SetUserData(userData(tagWake, 0, wakeTimer))
	}
	d.wake.armed = true
	return nil
}

// refFd returns the descriptor op holds while in flight, or -1: ops on registered files
// and path ops (whose directory descriptor the kernel only reads at the start) do not
// count.
func refFd(op *poller.Op) int {
	if op.Flags&poller.FlagFixedFile != 0 || op.Fd < 0 {
		return -1
	}
	switch op.Code {
	case poller.OpNop, poller.OpTimeout, poller.OpClose, poller.OpOpenat, poller.OpStatx,
		poller.OpUnlinkat, poller.OpRenameat, poller.OpMkdirat:
		return -1
	}
	return op.Fd
}

// denseFds bounds the descriptors counted in the dense fdRefs table: 4 MiB of counts
// at most, a million descriptors; higher numbers are counted in a map.
const denseFds = 1 << 20

func (d *Driver) ref(fd int) {
	if fd >= denseFds {
		if d.highFdRefs == nil {
			d.highFdRefs = map[int]int32{}
		}
		d.highFdRefs[fd]++
		return
	}
	if fd >= len(d.fdRefs) {
		n := min(max(2*len(d.fdRefs), fd+1, 64), denseFds)
		d.fdRefs = append(d.fdRefs, make([]int32, n-len(d.fdRefs))...)
	}
	d.fdRefs[fd]++
}

func (d *Driver) refsOf(fd int) int32 {
	switch {
	case fd < 0:
		return 0
	case fd >= denseFds:
		return d.highFdRefs[fd]
	case fd >= len(d.fdRefs):
		return 0
	}
	return d.fdRefs[fd]
}

// unref drops a reference; the last one releases a waiting OpClose.
func (d *Driver) unref(fd int) {
	var left int32
	if fd >= denseFds {
		left = d.highFdRefs[fd] - 1
		if left == 0 {
			delete(d.highFdRefs, fd)
		} else {
			d.highFdRefs[fd] = left
		}
	} else {
		d.fdRefs[fd]--
		left = d.fdRefs[fd]
	}
	if left != 0 || len(d.closers) == 0 {
		return
	}
	if idx, ok := d.closers[fd]; ok {
		delete(d.closers, fd)
		s := d.slots.at(idx)
		s.state = statePending
		d.pend = append(d.pend, idx)
	}
}

// deferClose parks an OpClose until the ops in flight on its descriptor are done, and
// asks the kernel to cancel them all (C4: the number is released only after the last
// of them completes). A second close of the same descriptor gets EBADF.
func (d *Driver) deferClose(idx int32) error {
	fd := d.slots.at(idx).op.Fd
	if _, dup := d.closers[fd]; dup {
		d.finishEarly(idx, -int32(unix.EBADF))
		return nil
	}
	d.slots.at(idx).state = stateClosing
	d.closers[fd] = idx
	sqe := d.nextSQE()
	sqe.PrepCancelFd(fd, CancelAll)
	sqe.SetUserData(userData(tagInternal, 0, 0))
	for sidx := range d.splices {
		if op := d.slots.at(sidx).op; op != nil && op.Fd == fd {
			_ = d.Cancel(op) // filed under its destination: not found by descriptor
		}
	}
	return nil
}

// splicePolled records the result of the POLL_ADD linked before a splice, when it
// failed with something other than a cancellation.
func (d *Driver) splicePolled(gen uint32, idx int32, res int32) {
	if res >= 0 || res == -int32(unix.ECANCELED) || idx < 0 || int(idx) >= len(d.slots.s) {
		return
	}
	if s := d.slots.at(idx); s.gen == gen && s.state == stateSubmitted && s.sc != nil {
		s.sc.pollRes = res
	}
}

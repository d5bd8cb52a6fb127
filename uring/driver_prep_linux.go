package uring

import (
	"slices"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/zokio/zokio/poller"
)

// sqesFor is the number of SQEs op takes: one, plus a LINK_TIMEOUT when it has a
// deadline, or the POLL_ADD linked before a splice.
func sqesFor(op *poller.Op) uint32 {
	if op.Code == poller.OpSplice || op.Timeout > 0 && op.Code != poller.OpTimeout {
		return 2 // Validate refuses Timeout with OpSplice
	}
	return 1
}

// place gives slot idx its SQEs, flushing once if the queue is full. It returns false
// when the ring has no room even after the flush; the op then stays pending.
func (d *Driver) place(idx int32) bool {
	op := d.slots.at(idx).op
	need := sqesFor(op)
	if d.ring.SQSpace() < need {
		d.submitNow()
		if d.ring.SQSpace() < need {
			return false
		}
	}
	d.prep(idx, op, false)
	return true
}

// submitNow hands queued SQEs to the kernel without waiting. Errors here (EBUSY while
// the kernel holds unreaped completions) leave the SQEs queued for the next Wait.
func (d *Driver) submitNow() {
	_, _ = d.ring.Submit()
}

// placePending moves pending ops into the ring, whole chains at a time, stopping at
// an unterminated chain or when the ring is full even after a flush.
func (d *Driver) placePending() {
	for len(d.pend) > 0 {
		n, need := d.nextChain()
		if n == 0 {
			return // the chain at the head is still open
		}
		if d.ring.SQSpace() < need {
			d.submitNow()
			if d.ring.SQSpace() < need {
				return
			}
		}
		d.placeChain(d.pend[:n])
		d.pend = d.pend[:copy(d.pend, d.pend[n:])]
	}
}

// nextChain returns the length of the chain at the head of pend and the SQEs it needs,
// or 0 if its last op still has FlagLink (more links are to come).
func (d *Driver) nextChain() (int, uint32) {
	var need uint32
	for i, idx := range d.pend {
		s := d.slots.at(idx)
		if s.state == statePending {
			need += sqesFor(s.op)
		}
		if d.endsChain(idx) {
			return i + 1, need
		}
	}
	return 0, 0
}

// endsChain reports whether pending op idx is the last of its chain.
func (d *Driver) endsChain(idx int32) bool {
	s := d.slots.at(idx)
	return s.op.Flags&poller.FlagLink == 0 || s.flags&slotChainEnd != 0
}

// cancelPending cancels an op that has no SQE yet. One that waits in pend as part of
// a link chain breaks the chain there, as a failed link would: it and the members
// after it complete with ECANCELED and leave pend (their slots are freed when that is
// delivered, so pend must not keep them), the member before it now ends the chain,
// and if the chain is still open, the ops that would have joined it are cancelled too
// (chainCut).
func (d *Driver) cancelPending(idx int32) {
	i := slices.Index(d.pend, idx)
	if i < 0 {
		d.finishEarly(idx, -int32(unix.ECANCELED))
		return
	}
	j := i
	for j < len(d.pend) && !d.endsChain(d.pend[j]) {
		j++
	}
	if j == len(d.pend) { // the open chain
		j--
		d.chainCut, d.chainSQEs = true, 0
	}
	for _, r := range d.pend[i : j+1] {
		d.finishEarly(r, -int32(unix.ECANCELED))
	}
	if i > 0 && !d.endsChain(d.pend[i-1]) {
		d.slots.at(d.pend[i-1]).flags |= slotChainEnd
	}
	d.pend = slices.Delete(d.pend, i, j+1)
}

// placeChain preps a chain. A member cancelled before submission breaks the chain
// there, as a failed link would: the members after it complete with ECANCELED, and the
// last member placed loses its link flag so that it does not capture an unrelated SQE.
func (d *Driver) placeChain(chain []int32) {
	for i, idx := range chain {
		s := d.slots.at(idx)
		if s.state != statePending {
			for _, rest := range chain[i+1:] {
				d.finishEarly(rest, -int32(unix.ECANCELED))
			}
			return
		}
		last := i == len(chain)-1 || d.slots.at(chain[i+1]).state != statePending
		d.prep(idx, s.op, !last)
	}
}

// prep fills the op's SQE (and its LINK_TIMEOUT) and marks the slot submitted.
func (d *Driver) prep(idx int32, op *poller.Op, link bool) {
	s := d.slots.at(idx)
	if op.Code == poller.OpSplice {
		d.prepSplicePoll(idx, op)
	}
	sqe := d.ring.NextSQE()
	d.fill(sqe, idx, op)
	sqe.SetUserData(op.Ref)
	flags := sqeFlags(op)
	if link {
		flags |= SQEIOLink
	}
	if op.Timeout > 0 && op.Code != poller.OpTimeout {
		sc := d.slots.scratchOf(idx)
		sc.ts = NewTimespec(op.Timeout)
		sqe.SetFlags(flags | SQEIOLink)
		lt := d.ring.NextSQE()
		// SAFETY: sc is referenced by the slot until the op's final completion, and the
		// kernel copies the timespec when it consumes this SQE, which is before then.
		lt.PrepLinkTimeout(&sc.ts, 0)
		lt.SetUserData(userData(tagInternal, 0, 0))
		s.flags |= slotTimeout
		if link {
			lt.SetFlags(SQEIOLink)
		}
	} else {
		sqe.SetFlags(flags)
	}
	s.state = stateSubmitted
}

// prepSplicePoll puts a POLL_ADD on the splice's end that is not a pipe (Fd readable
// when Fd2 is a pipe, else Fd2 writable) before its SQE, linked to it. The kernel does
// not poll for a splice itself: on a non-blocking socket, which the runtime's are, a
// splice with nothing to move fails with EAGAIN at once. After the poll it runs when
// that end is ready, as the readiness drivers run it (see poller.OpSplice). A regular
// file polls ready at once.
func (d *Driver) prepSplicePoll(idx int32, op *poller.Op) {
	fd, events := op.Fd, uint32(poller.PollIn)
	var st unix.Stat_t
	if unix.Fstat(op.Fd2, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO {
		fd, events = op.Fd2, poller.PollOut
	}
	d.slots.scratchOf(idx).pollRes = 0
	p := d.ring.NextSQE()
	p.PrepPollAdd(fd, events)
	p.SetUserData(userData(tagSplicePoll, d.slots.at(idx).gen, idx))
	p.SetFlags(SQEIOLink)
}

func sqeFlags(op *poller.Op) SQEFlags {
	var f SQEFlags
	if op.Flags&poller.FlagFixedFile != 0 && op.Code != poller.OpClose {
		f |= SQEFixedFile // a fixed close names its slot in file_index, not with this flag
	}
	if op.Flags&poller.FlagBufferSelect != 0 {
		f |= SQEBufferSelect
	}
	if op.Flags&poller.FlagAsync != 0 {
		f |= SQEAsync
	}
	return f
}

func offset(off int64) uint64 { return uint64(off) } // -1 becomes the kernel's "current position"

// fill translates op into sqe. Everything the kernel reads by pointer lives in the op
// (buffers, Addr) or in the slot's scratch, both referenced until the final completion.
func (d *Driver) fill(sqe *SQE, idx int32, op *poller.Op) {
	switch op.Code {
	case poller.OpNop:
		sqe.PrepNop()
	case poller.OpRead:
		if op.Flags&poller.FlagFixedBuffer != 0 {
			sqe.PrepReadFixed(op.Fd, op.Buf, offset(op.Offset), op.BufIndex)
		} else {
			sqe.PrepRead(op.Fd, op.Buf, offset(op.Offset))
		}
	case poller.OpWrite:
		if op.Flags&poller.FlagFixedBuffer != 0 {
			sqe.PrepWriteFixed(op.Fd, op.Buf, offset(op.Offset), op.BufIndex)
		} else {
			sqe.PrepWrite(op.Fd, op.Buf, offset(op.Offset))
		}
	case poller.OpReadv:
		sqe.PrepReadv(op.Fd, d.iovecs(idx, op.Bufs), offset(op.Offset))
	case poller.OpWritev:
		sqe.PrepWritev(op.Fd, d.iovecs(idx, op.Bufs), offset(op.Offset))
	case poller.OpFsync:
		var f FsyncFlags
		if op.Arg&poller.FsyncDatasync != 0 {
			f = FsyncDatasync
		}
		sqe.PrepFsync(op.Fd, f)
	case poller.OpFallocate:
		sqe.PrepFallocate(op.Fd, op.Arg, uint64(op.Offset), uint64(op.Len))
	case poller.OpFtruncate:
		sqe.PrepFtruncate(op.Fd, op.Len)
	case poller.OpClose:
		if op.Flags&poller.FlagFixedFile != 0 {
			sqe.PrepCloseFixed(uint32(op.Fd))
		} else {
			sqe.PrepClose(op.Fd)
		}
	default:
		d.fillPathOrNet(sqe, idx, op)
	}
}

func (d *Driver) fillPathOrNet(sqe *SQE, idx int32, op *poller.Op) {
	switch op.Code {
	case poller.OpOpenat:
		sqe.PrepOpenat(op.Fd, d.cpath(idx, op.Path, false), int(op.Arg), op.Mode)
	case poller.OpStatx:
		// SAFETY: Validate checked that Buf is at least StatxSize long and 8-aligned;
		// the op keeps Buf referenced until its completion.
		st := (*unix.Statx_t)(unsafe.Pointer(unsafe.SliceData(op.Buf)))
		sqe.PrepStatx(op.Fd, d.cpath(idx, op.Path, false), int(op.Arg), op.Mode, st)
	case poller.OpUnlinkat:
		sqe.PrepUnlinkat(op.Fd, d.cpath(idx, op.Path, false), int(op.Arg))
	case poller.OpRenameat:
		sqe.PrepRenameat(op.Fd, d.cpath(idx, op.Path, false), op.Fd2, d.cpath(idx, op.Path2, true), op.Arg)
	case poller.OpMkdirat:
		sqe.PrepMkdirat(op.Fd, d.cpath(idx, op.Path, false), op.Mode)
	case poller.OpTimeout:
		sc := d.slots.scratchOf(idx)
		sc.ts = NewTimespec(op.Timeout)
		// SAFETY: the slot keeps sc until the timeout's completion.
		sqe.PrepTimeout(&sc.ts, 0, 0)
	default:
		d.fillNet(sqe, idx, op)
	}
}

func (d *Driver) fillNet(sqe *SQE, idx int32, op *poller.Op) {
	switch op.Code {
	case poller.OpAccept:
		var sa *unix.RawSockaddrAny
		var salen *uint32
		if op.Addr != nil {
			// SAFETY: Addr is 8-aligned, at least as large as RawSockaddrAny, and held
			// by the op until its completion.
			sa, salen = (*unix.RawSockaddrAny)(unsafe.Pointer(&op.Addr.Raw[0])), &op.Addr.Len
		}
		if op.Flags&poller.FlagMultishot != 0 {
			sqe.PrepMultishotAccept(op.Fd, nil, nil, int(op.Arg))
		} else {
			sqe.PrepAccept(op.Fd, sa, salen, int(op.Arg))
		}
	case poller.OpConnect:
		// SAFETY: as for accept; the kernel reads Addr while the op is in flight.
		sqe.PrepConnect(op.Fd, unsafe.Pointer(&op.Addr.Raw[0]), op.Addr.Len)
	case poller.OpRecv:
		if op.Flags&poller.FlagMultishot != 0 {
			sqe.PrepRecvMultishot(op.Fd, int(op.Arg), op.Group)
		} else if op.Flags&poller.FlagBufferSelect != 0 {
			sqe.PrepRecv(op.Fd, nil, int(op.Arg))
			sqe.SetBufGroup(op.Group)
			sqe.Len = uint32(d.group(op.Group).size)
		} else {
			sqe.PrepRecv(op.Fd, op.Buf, int(op.Arg))
		}
	case poller.OpSend:
		sqe.PrepSend(op.Fd, op.Buf, int(op.Arg))
	case poller.OpSendZC:
		if op.Flags&poller.FlagFixedBuffer != 0 {
			sqe.PrepSendZC(op.Fd, op.Buf, int(op.Arg), RecvSendFixedBuf)
			sqe.BufIndex = op.BufIndex
		} else {
			sqe.PrepSendZC(op.Fd, op.Buf, int(op.Arg), 0)
		}
	case poller.OpSendmsg:
		sqe.PrepSendmsg(op.Fd, d.msghdr(idx, op), op.Arg)
	case poller.OpRecvmsg:
		sqe.PrepRecvmsg(op.Fd, d.msghdr(idx, op), op.Arg)
	case poller.OpShutdown:
		sqe.PrepShutdown(op.Fd, int(op.Arg))
	case poller.OpPoll:
		if op.Flags&poller.FlagMultishot != 0 {
			sqe.PrepPollMultishot(op.Fd, op.Arg)
		} else {
			sqe.PrepPollAdd(op.Fd, op.Arg)
		}
	case poller.OpSplice:
		// Validate keeps Len within MaxRW and refuses FlagFixedFile for splice.
		sqe.PrepSplice(op.Fd, op.Offset, op.Fd2, -1, uint32(op.Len), op.Arg)
	}
}

// iovecs builds the iovec array for bufs in idx's scratch, reusing its storage.
func (d *Driver) iovecs(idx int32, bufs [][]byte) []unix.Iovec {
	sc := d.slots.scratchOf(idx)
	sc.iov = sc.iov[:0]
	for _, b := range bufs {
		var v unix.Iovec
		if len(b) > 0 {
			// SAFETY: the op holds bufs until its completion.
			v.Base = unsafe.SliceData(b)
			v.SetLen(len(b))
		}
		sc.iov = append(sc.iov, v)
	}
	return sc.iov
}

func (d *Driver) msghdr(idx int32, op *poller.Op) *unix.Msghdr {
	iov := d.iovecs(idx, op.Bufs)
	sc := d.slots.scratchOf(idx)
	sc.msg = unix.Msghdr{}
	if len(iov) > 0 {
		sc.msg.Iov = &iov[0]
		sc.msg.SetIovlen(len(iov))
	}
	if op.Addr != nil {
		// SAFETY: the op holds Addr until its completion.
		sc.msg.Name = &op.Addr.Raw[0]
		sc.msg.Namelen = op.Addr.Len
		if op.Code == poller.OpRecvmsg && sc.msg.Namelen == 0 {
			sc.msg.Namelen = uint32(len(op.Addr.Raw))
		}
	}
	if len(op.Control) > 0 {
		sc.msg.Control = &op.Control[0]
		sc.msg.SetControllen(len(op.Control))
	}
	return &sc.msg
}

// cpath copies p with a terminating NUL into idx's scratch, reusing its storage.
func (d *Driver) cpath(idx int32, p string, second bool) *byte {
	sc := d.slots.scratchOf(idx)
	dst := &sc.path
	if second {
		dst = &sc.path2
	}
	*dst = append(append((*dst)[:0], p...), 0)
	return &(*dst)[0]
}

// cancelKernel queues an ASYNC_CANCEL for the op with user_data ud.
func (d *Driver) cancelKernel(ud uint64) {
	sqe := d.nextSQE()
	sqe.PrepCancel(ud, 0)
	sqe.SetUserData(userData(tagInternal, 0, 0))
}

// nextSQE returns an SQE for an internal request, flushing until one is free. Internal
// requests are never chained, so a flush cannot split anything.
func (d *Driver) nextSQE() *SQE {
	for {
		if sqe := d.ring.NextSQE(); sqe != nil {
			return sqe
		}
		if _, err := d.ring.Submit(); err != nil {
			// The kernel refuses new work until we reap; reap into the ready list
			// without dispatching, then try again.
			d.reapDeferred()
		}
	}
}

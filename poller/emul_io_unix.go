//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package poller

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// The "try the syscall" half of the readiness core: one attempt of a socket or pipe
// op on a non-blocking descriptor, in the loop's goroutine.

// tryResult is what one attempt left behind.
type tryResult uint8

const (
	tryDone tryResult = iota // the op finished (its final completion is queued)
	tryWait                  // it would block: wait for readiness
	tryMore                  // a multishot op spent the budget while still ready
)

// startIO starts an op that reads or writes a descriptor: on a regular file it goes to
// the worker pool, otherwise it is tried now and queued on EAGAIN. On a stream (pipe,
// socket) the offset of read and write is ignored, as io_uring ignores it there.
func (e *emul) startIO(idx int32, s *slot, op *Op) {
	f, errno := e.fdFor(op.Fd)
	if errno == 0 {
		var kind fdKind
		kind, errno = e.kindOf(op.Fd, f)
		if errno == 0 && kind == kindFile && isReadWrite(op.Code) {
			e.startFile(idx, s, op)
			return
		}
	}
	if errno != 0 {
		e.finish(idx, -int32(errno), 0, 0)
		return
	}
	dir := dirRead
	switch op.Code {
	case OpWrite, OpWritev, OpSend, OpSendmsg, OpConnect:
		dir = dirWrite
	}
	e.tryOrQueue(idx, s, op.Fd, f, dir)
}

// dontWait reports whether op is a single-shot send or receive whose Arg has
// MsgDontWait: it completes with EAGAIN instead of waiting for readiness.
func dontWait(op *Op) bool {
	switch op.Code {
	case OpRecv, OpSend, OpRecvmsg, OpSendmsg:
		return op.Arg&MsgDontWait != 0 && op.Flags&FlagMultishot == 0
	}
	return false
}

func isReadWrite(c Opcode) bool {
	return c == OpRead || c == OpWrite || c == OpReadv || c == OpWritev
}

// attempt runs op idx's syscall (a multishot op: repeatedly, within budget).
func (e *emul) attempt(idx int32, s *slot, budget *int) tryResult {
	op := s.op
	switch {
	case op.Code == OpAccept:
		return e.tryAccept(idx, op, budget)
	case op.Code == OpRecv && op.Flags&FlagBufferSelect != 0:
		return e.tryRecvSelect(idx, op, budget)
	case op.Code == OpConnect:
		return e.tryConnect(idx, s, op, budget)
	case op.Code == OpSplice:
		return e.trySplice(idx, op, budget)
	}
	waitAll := (op.Code == OpSend || op.Code == OpRecv) && op.Arg&MsgWaitAll != 0
	for {
		*budget--
		n, errno := e.io(s, op)
		switch errno {
		case 0:
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			if dontWait(op) { // the caller asked not to wait, as io_uring honours it
				if s.done > 0 {
					e.finish(idx, int32(s.done), 0, 0)
				} else {
					e.finish(idx, -int32(unix.EAGAIN), 0, 0)
				}
				return tryDone
			}
			return tryWait
		default:
			if s.done > 0 { // io_uring reports the bytes a MSG_WAITALL op moved
				e.finish(idx, int32(s.done), 0, 0)
			} else {
				e.finish(idx, -int32(errno), 0, 0)
			}
			return tryDone
		}
		if waitAll && n > 0 && s.done+n < len(op.Buf) {
			s.done += n
			if *budget <= 0 {
				return tryMore
			}
			continue
		}
		e.finish(idx, int32(s.done+n), 0, 0) // at most len(op.Buf) ≤ MaxRW
		return tryDone
	}
}

// io performs one non-blocking syscall for op. Send and recv add MSG_DONTWAIT, so a
// blocking socket cannot stall the loop.
func (e *emul) io(s *slot, op *Op) (int, syscall.Errno) {
	fd := op.Fd
	switch op.Code {
	case OpRead:
		return ioRead(fd, op.Buf)
	case OpWrite:
		return ioWrite(fd, op.Buf)
	case OpReadv:
		defer e.sc.clear()
		return ioReadv(fd, e.sc.iovecs(op.Bufs))
	case OpWritev:
		defer e.sc.clear()
		return ioWritev(fd, e.sc.iovecs(op.Bufs))
	case OpRecv:
		return ioRecv(fd, op.Buf[s.done:], int(op.Arg)|unix.MSG_DONTWAIT)
	case OpSend:
		return ioSend(fd, op.Buf[s.done:], int(op.Arg)|unix.MSG_DONTWAIT|msgNoSignal)
	case OpRecvmsg:
		defer e.sc.clear()
		msg := e.sc.msghdr(op, true)
		n, errno := ioRecvmsg(fd, msg, int(op.Arg)|unix.MSG_DONTWAIT)
		if errno == 0 {
			if op.Addr != nil {
				op.Addr.Len = msg.Namelen
			}
			op.Len = int64(msg.Controllen)
			op.MsgFlags = msg.Flags
		}
		return n, errno
	case OpSendmsg:
		defer e.sc.clear()
		return ioSendmsg(fd, e.sc.msghdr(op, false), int(op.Arg)|unix.MSG_DONTWAIT|msgNoSignal)
	}
	return 0, unix.EINVAL
}

func (e *emul) tryAccept(idx int32, op *Op, budget *int) tryResult {
	for {
		if *budget <= 0 {
			return tryMore
		}
		*budget--
		nfd, errno := ioAccept(op.Fd, op.Addr, int(op.Arg))
		switch errno {
		case 0:
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return tryWait
		default:
			e.finish(idx, -int32(errno), 0, 0)
			return tryDone
		}
		e.fdBorn(nfd, e.fds.at(op.Fd).kind) // an accepted socket has its listener's type
		if op.Flags&FlagMultishot == 0 {
			e.finish(idx, int32(nfd), 0, 0)
			return tryDone
		}
		e.post(idx, int32(nfd), 0, 0)
	}
}

// tryRecvSelect receives into a buffer of the op's group. The buffer is taken from the
// group only when data arrived, so EAGAIN and EOF leave the group unchanged. With no
// free buffer the op ends with ENOBUFS, as io_uring's does. A multishot receive on a
// byte stream whose last receive filled everything it was given reads into several
// free buffers at once (see recvBatchBufs).
func (e *emul) tryRecvSelect(idx int32, op *Op, budget *int) tryResult {
	g := e.group(op.Group)
	flags := int(op.Arg) | unix.MSG_DONTWAIT
	ids := e.sc.ids[:]
	for {
		if *budget <= 0 {
			return tryMore
		}
		f := e.fds.at(op.Fd)
		k := 1
		if f.streaming && op.Flags&FlagMultishot != 0 {
			k = len(ids)
		}
		if k = g.peekN(ids[:k]); k == 0 {
			e.finish(idx, -int32(unix.ENOBUFS), 0, 0)
			return tryDone
		}
		*budget--
		n, errno := e.recvInto(op.Fd, g, ids[:k], flags)
		switch errno {
		case 0:
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			f.streaming = false
			return tryWait
		default:
			e.finish(idx, -int32(errno), 0, 0)
			return tryDone
		}
		if n == 0 {
			e.finish(idx, 0, 0, 0)
			return tryDone
		}
		f.streaming = n == k*g.size && f.kind == kindStream
		if op.Flags&FlagMultishot == 0 {
			g.take()
			e.finish(idx, int32(n), ResBuffer, ids[0])
			return tryDone
		}
		for i, left := 0, n; left > 0; i++ { // a completion per buffer filled, in order
			m := min(left, g.size)
			g.take()
			e.post(idx, int32(m), ResBuffer, ids[i])
			left -= m
		}
		if n < k*g.size && f.kind == kindStream && !f.hup {
			// Drained: the next edge brings more (see kindStream). Not after the
			// peer's FIN was reported: data and FIN often share one edge, and the
			// EOF behind the data raises no other.
			return tryWait
		}
	}
}

// recvBatchBufs is how many buffers of its group a multishot receive on a byte stream
// fills with one recvmsg, once a receive has filled everything it was given (more is
// likely waiting) and they are free: with the default 16 KiB buffers, 64 KiB per
// system call, what a C epoll server or gnet reads at once, instead of a recvfrom per
// buffer while a peer streams. Small messages keep the plain recvfrom, which costs less
// than a recvmsg with iovecs. Each filled buffer is still one completion.
const recvBatchBufs = 4

// recvInto receives into the group's buffers ids: one recvfrom for one buffer, one
// recvmsg for several.
func (e *emul) recvInto(fd int, g *emulGroup, ids []uint16, flags int) (int, syscall.Errno) {
	if len(ids) == 1 {
		return ioRecv(fd, g.view(ids[0]), flags)
	}
	sc := &e.sc
	sc.iov = sc.iov[:0]
	for _, id := range ids {
		b := g.view(id)
		var v unix.Iovec
		v.Base = &b[0]
		v.SetLen(len(b))
		sc.iov = append(sc.iov, v)
	}
	sc.msg = unix.Msghdr{Iov: &sc.iov[0]}
	sc.msg.SetIovlen(len(ids))
	n, errno := ioRecvmsg(fd, &sc.msg, flags)
	sc.clear()
	return n, errno
}

// tryConnect starts a non-blocking connect, and once the descriptor is writable learns
// its outcome: SO_ERROR, then connect again (EISCONN means connected, EALREADY still
// in progress), which also tells a spurious wakeup from a finished handshake.
func (e *emul) tryConnect(idx int32, s *slot, op *Op, budget *int) tryResult {
	*budget--
	if s.done != 0 {
		errno := ioSockError(op.Fd)
		if f := e.fds.peek(op.Fd); errno == 0 && f != nil {
			errno = f.connErr // kqueue: EV_EOF's fflags, where SO_ERROR was cleared
		}
		if errno != 0 {
			e.finish(idx, -int32(errno), 0, 0)
			return tryDone
		}
	}
	switch errno := ioConnect(op.Fd, op.Addr); errno {
	case 0:
	case unix.EISCONN:
		if s.done == 0 {
			e.finish(idx, -int32(errno), 0, 0)
			return tryDone
		}
	case unix.EINPROGRESS, unix.EALREADY, unix.EINTR:
		s.done = 1
		return tryWait
	case unix.EAGAIN:
		return tryWait
	default:
		e.finish(idx, -int32(errno), 0, 0)
		return tryDone
	}
	e.finish(idx, 0, 0, 0)
	return tryDone
}

// scratch is the loop's reusable memory for the structs inline syscalls take by
// pointer, so that a steady-state op allocates nothing. The iovecs and msghdr point
// at the op's buffers only for the duration of one syscall; clear drops those
// pointers afterwards so they do not keep a completed op's memory alive.
type scratch struct {
	iov  []unix.Iovec
	msg  unix.Msghdr
	pfd  [1]unix.PollFd
	stat unix.Stat_t
	ids  [recvBatchBufs]uint16 // the buffers of a batched receive (recvBatch)
}

func (sc *scratch) iovecs(bufs [][]byte) []unix.Iovec {
	sc.iov = fillIovecs(sc.iov[:0], bufs)
	return sc.iov
}

// fillIovecs appends one iovec per non-empty buffer.
func fillIovecs(iov []unix.Iovec, bufs [][]byte) []unix.Iovec {
	for _, b := range bufs {
		if len(b) == 0 {
			continue
		}
		var v unix.Iovec
		v.Base = &b[0]
		v.SetLen(len(b))
		iov = append(iov, v)
	}
	return iov
}

func (sc *scratch) msghdr(op *Op, recv bool) *unix.Msghdr {
	iov := sc.iovecs(op.Bufs)
	m := &sc.msg
	*m = unix.Msghdr{}
	if op.Addr != nil {
		m.Name = &op.Addr.Raw[0]
		m.Namelen = op.Addr.Len
		if recv {
			m.Namelen = uint32(len(op.Addr.Raw))
		}
	}
	if len(iov) > 0 {
		m.Iov = &iov[0]
		m.SetIovlen(len(iov))
	}
	if len(op.Control) > 0 {
		m.Control = &op.Control[0]
		m.SetControllen(len(op.Control))
	}
	return m
}

func (sc *scratch) clear() {
	clear(sc.iov)
	sc.msg = unix.Msghdr{}
}

package iocp

import (
	"fmt"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/zokio/zokio/poller"
)

// handle is the driver's state for one socket or file handle: what kind it is, whether
// it is associated with the port (once here, for every overlapped handle: an association
// lasts as long as the handle), how many ops hold it, and the file position for Offset -1.
type handle struct {
	h        windows.Handle
	kind     uint8
	sotype   int            // SOCK_STREAM or SOCK_DGRAM, for sockets
	refs     int            // ops in flight on it
	closing  int32          // the pending OpClose's slot number plus one, 0 none
	family   int32          // a socket's address family, once known (AcceptEx needs it)
	base     windows.Handle // a socket's base provider handle, for AFD poll
	pos      int64          // the file position (kindFile), once posKnown
	posKnown bool
	sync     bool // opened without FILE_FLAG_OVERLAPPED: reads and writes go to a worker
	// foreign: an overlapped disk file that another completion port holds (another
	// driver opened or used it first, or Go's runtime did). Its reads and writes run on
	// a worker, which waits for each on an event (see syncRW). Such a state is never
	// kept in the handle table: the handle's value may name another object after its
	// owner closes it, so each op finds out afresh.
	foreign bool
}

const (
	kindFile   uint8 = iota + 1 // a disk file: offsets apply
	kindSocket                  // a Winsock socket
	kindOther                   // a pipe or character device: no offsets
)

// handleFor returns the state for fd, classifying and associating it with the port the
// first time. It fails with EBADF for a handle that is invalid or whose close is pending.
//
// A handle is associated with one completion port for its whole life: a second
// association fails (ERROR_INVALID_PARAMETER, on Windows as under Wine), and the
// packets of a call on the handle go to the first port whatever driver made the call.
// So a handle that another port holds is never used here as if it were this driver's:
// a disk file's reads and writes go to a worker (foreign), and a socket or any other
// handle fails with resForeign (Submit refuses it with a *ForeignHandleError).
func (d *Driver) handleFor(fd int) (*handle, int32) {
	if fd < 0 {
		return nil, resBadf
	}
	h := windows.Handle(fd)
	if hs := d.handles[h]; hs != nil {
		if hs.closing != 0 {
			return nil, resBadf
		}
		return hs, 0
	}
	hs := &handle{h: h}
	if t, err := windows.GetsockoptInt(h, windows.SOL_SOCKET, soType); err == nil {
		hs.kind, hs.sotype = kindSocket, t
	} else {
		ft, err := windows.GetFileType(h)
		if err != nil {
			return nil, resBadf
		}
		hs.kind = kindOther
		if ft == windows.FILE_TYPE_DISK {
			hs.kind = kindFile
		}
		hs.sync = synchronous(h)
	}
	if !hs.sync {
		if _, err := windows.CreateIoCompletionPort(h, d.port, keyIO, 0); err != nil {
			if err != windows.ERROR_INVALID_PARAMETER {
				return nil, errRes(err)
			}
			if hs.kind != kindFile {
				return nil, resForeign
			}
			hs.foreign = true
			return hs, 0
		}
	}
	d.handles[h] = hs
	return hs, 0
}

// resForeign is the result of an op on a socket or pipe that another completion port
// holds: EINVAL, what ERROR_INVALID_PARAMETER means elsewhere.
const resForeign = -int32(syscall.EINVAL)

// ForeignHandleError is returned by Submit for an op on a socket, pipe or other
// non-file handle that is associated with another completion port: another Driver's
// (it used the handle first) or one outside this package (Go's runtime associates the
// sockets of package net). A handle keeps its first port until it is closed, so such
// an op could never complete here; submit it on the driver that holds the handle.
// Disk files are not refused: their reads and writes run on this driver's workers.
// errors.Is(err, syscall.EINVAL) holds.
type ForeignHandleError struct {
	Code   poller.Opcode
	Handle int
}

// Error describes the refused op and why.
func (e *ForeignHandleError) Error() string {
	return fmt.Sprintf("iocp: %v on handle %#x, which another completion port holds (a handle has one port for its life: use the driver that first used it)", e.Code, e.Handle)
}

// Unwrap returns syscall.EINVAL.
func (e *ForeignHandleError) Unwrap() error { return syscall.EINVAL }

// usesHandle reports whether op's Fd is a handle its call is made on, which must be
// associated with the port.
func usesHandle(c poller.Opcode) bool {
	switch c {
	case poller.OpRead, poller.OpWrite, poller.OpReadv, poller.OpWritev, poller.OpRecv, poller.OpSend,
		poller.OpRecvmsg, poller.OpSendmsg, poller.OpAccept, poller.OpConnect, poller.OpPoll:
		return true
	}
	return false
}

// refuseForeign is Submit's check that op's handle is not held by another port. It
// classifies and associates a handle the driver has not seen, which start would do
// anyway; a handle it fails for otherwise (EBADF) completes with that error, as before.
func (d *Driver) refuseForeign(op *poller.Op) error {
	if !usesHandle(op.Code) || op.Fd < 0 || d.handles[windows.Handle(op.Fd)] != nil {
		return nil
	}
	if _, res := d.handleFor(op.Fd); res == resForeign {
		return &ForeignHandleError{Code: op.Code, Handle: op.Fd}
	}
	return nil
}

// synchronous reports whether a file handle was opened for synchronous I/O (without
// FILE_FLAG_OVERLAPPED, as os.OpenFile opens files): overlapped calls on it would block
// the loop, so its reads and writes run on a worker instead, and it is never associated
// with the port.
func synchronous(h windows.Handle) bool {
	var mode uint32
	var iosb windows.IO_STATUS_BLOCK
	// SAFETY: FILE_MODE_INFORMATION is one ULONG, written during the call.
	err := windows.NtQueryInformationFile(h, &iosb, (*byte)(unsafe.Pointer(&mode)), uint32(unsafe.Sizeof(mode)), fileModeInformation)
	return err == nil && mode&(windows.FILE_SYNCHRONOUS_IO_ALERT|windows.FILE_SYNCHRONOUS_IO_NONALERT) != 0
}

func isRW(c poller.Opcode) bool {
	return c == poller.OpRead || c == poller.OpWrite || c == poller.OpReadv || c == poller.OpWritev
}

// unref drops an op's hold on hs; the last one lets a pending close proceed.
func (d *Driver) unref(hs *handle) {
	hs.refs--
	if hs.refs == 0 && hs.closing != 0 {
		d.closeNow(hs)
	}
}

// start runs an op whose turn has come: at Submit, or when its chain predecessor
// succeeded.
func (d *Driver) start(idx int32) {
	s := d.slots[idx]
	op := s.op
	s.state = stPending
	if d.closed {
		d.finish(idx, resCanceled, 0, 0)
		return
	}
	switch {
	case op.Code == poller.OpNop:
		d.finish(idx, 0, 0, 0)
	case op.Code == poller.OpTimeout:
		if op.Timeout == 0 {
			d.finish(idx, -int32(poller.ETIME), 0, 0)
			return
		}
		s.state = stTimer
		d.timers.Push(idx, d.deadline(op.Timeout))
	case op.Code == poller.OpClose:
		d.startClose(idx, s, op)
	case op.Code == poller.OpShutdown:
		hs, res := d.handleFor(op.Fd)
		if res == 0 {
			res = errRes(windows.Shutdown(hs.h, int(op.Arg)))
		}
		d.finish(idx, res, 0, 0)
	case op.Code.IsFileOp():
		d.startWorker(idx, s, op)
	default:
		hs, res := d.handleFor(op.Fd)
		if res != 0 {
			d.finish(idx, res, 0, 0)
			return
		}
		if (hs.sync || hs.foreign) && isRW(op.Code) {
			d.startJob(idx, s, op, hs)
			break
		}
		if hs.foreign {
			d.finish(idx, resForeign, 0, 0) // only reads and writes run elsewhere
			return
		}
		s.hs = hs
		hs.refs++
		if res, done := d.issue(idx, s, op); done {
			d.finish(idx, res, 0, 0)
		}
	}
	// Op.Timeout counts from the op's start, as an io_uring linked timeout does; an op
	// that finished at once arms nothing.
	if op.Timeout > 0 && op.Code != poller.OpTimeout && s.state == stPending {
		d.timers.Push(idx, d.deadline(op.Timeout))
		s.flags |= fTimer
	}
}

// issue starts op's overlapped call. done reports a result known at once (the call
// failed, or needs no packet); otherwise a packet will come.
func (d *Driver) issue(idx int32, s *slot, op *poller.Op) (res int32, done bool) {
	s.ioh = s.hs.h
	if res, done := dontWait(s, op); done {
		return res, true
	}
	switch op.Code {
	case poller.OpRead, poller.OpWrite:
		return d.issueRW(s, op)
	case poller.OpReadv, poller.OpWritev:
		if s.hs.kind == kindSocket {
			return d.issueVec(s, op)
		}
		return d.issueFileVec(s, op, true)
	case poller.OpRecv:
		if op.Flags&poller.FlagBufferSelect != 0 {
			return d.issueSelect(idx, s, op)
		}
		return d.issueVec(s, op)
	case poller.OpSend:
		return d.issueVec(s, op)
	case poller.OpRecvmsg:
		return d.issueRecvmsg(s, op)
	case poller.OpSendmsg:
		return d.issueSendmsg(s, op)
	case poller.OpAccept:
		return d.issueAccept(s, op)
	case poller.OpConnect:
		return d.issueConnect(s, op)
	case poller.OpPoll:
		return d.issuePoll(s, op)
	}
	return -int32(windows.ERROR_NOT_SUPPORTED), true
}

// dontWait honours MsgDontWait on a single-shot recv, send, recvmsg or sendmsg of a
// socket: an overlapped call never blocks the loop, but it waits for data or room, so
// the op first asks WSAPoll (zero timeout) whether the call could go ahead, and
// completes with EAGAIN when it could not, as recv(2) with MSG_DONTWAIT does. When it
// could, the call is issued as usual and completes at once.
func dontWait(s *slot, op *poller.Op) (int32, bool) {
	if op.Arg&poller.MsgDontWait == 0 || s.hs.kind != kindSocket || op.Flags&poller.FlagMultishot != 0 {
		return 0, false
	}
	var write bool
	switch op.Code {
	case poller.OpRecv, poller.OpRecvmsg:
	case poller.OpSend, poller.OpSendmsg:
		write = true
	default:
		return 0, false
	}
	block, err := wouldBlock(s.ioh, write)
	switch {
	case err != nil:
		return errRes(err), true
	case block:
		return -int32(syscall.EAGAIN), true
	}
	return 0, false
}

// pending turns an overlapped call's return into issue's result. A packet will come for
// nil and ERROR_IO_PENDING (the driver never skips packets on success), and for the
// warnings WSAEMSGSIZE and ERROR_MORE_DATA (a datagram or message cut short): their
// NTSTATUS (STATUS_BUFFER_OVERFLOW) is not an error, so the I/O manager queues the
// packet even though the call returned failure, as Wine does too. Only a real error
// means no packet: the request is free again at once.
func pending(err error) (int32, bool) {
	switch err {
	case nil, windows.ERROR_IO_PENDING, windows.WSAEMSGSIZE, windows.ERROR_MORE_DATA:
		return 0, false
	}
	return errRes(err), true
}

// startClose begins OpClose: every call on the handle is cancelled, and the handle is
// closed once the last op holding it has completed (C4).
func (d *Driver) startClose(idx int32, s *slot, op *poller.Op) {
	if op.Fd < 0 {
		d.finish(idx, resBadf, 0, 0)
		return
	}
	h := windows.Handle(op.Fd)
	hs := d.handles[h]
	if hs == nil {
		// Never used through the driver: nothing to drain.
		d.finish(idx, closeRes(h), 0, 0)
		return
	}
	if hs.closing != 0 {
		d.finish(idx, resBadf, 0, 0)
		return
	}
	hs.closing = idx + 1
	s.state = stClosing
	if hs.refs == 0 {
		d.closeNow(hs)
		return
	}
	_ = windows.CancelIoEx(h, nil)
	for _, o := range d.slots {
		if o.hs == hs && o.state == stPending {
			if o.ioh != h { // an AFD poll, or a worker job
				d.cancelIO(o)
			} else {
				o.flags |= fCancelled
			}
		}
	}
}

// closeNow closes hs, whose last op has completed, and completes its OpClose.
func (d *Driver) closeNow(hs *handle) {
	idx := hs.closing - 1
	delete(d.handles, hs.h)
	var res int32
	if hs.kind == kindSocket {
		res = errRes(windows.Closesocket(hs.h))
	} else {
		res = errRes(windows.CloseHandle(hs.h))
	}
	d.finish(idx, res, 0, 0)
}

// closeRes closes a handle the driver never used.
func closeRes(h windows.Handle) int32 {
	if _, err := windows.GetsockoptInt(h, windows.SOL_SOCKET, soType); err == nil {
		return errRes(windows.Closesocket(h))
	}
	return errRes(windows.CloseHandle(h))
}

// packet handles one dequeued entry: it finds the op through the request's slot number
// and generation and hands the result to the op's completion.
func (d *Driver) packet(e *overlappedEntry) {
	if e.Overlapped == nil {
		d.stats.Stale++
		return
	}
	r := reqOf(e.Overlapped)
	if r.idx < 0 || int(r.idx) >= len(d.slots) {
		d.stats.Stale++
		return
	}
	s := d.slots[r.idx]
	if s.req != r || s.gen != r.gen || s.state != stPending {
		d.stats.Stale++
		return
	}
	if e.Key == keyWorker {
		s.flags &^= fWorker
		// Load-acquire pairs with the worker's Store before it posted this packet.
		d.finishWorker(r.idx, s, r.wres.Load())
		return
	}
	var err error
	if e.Internal != 0 {
		err = d.statusErr(s, uint32(e.Internal))
	}
	d.complete(r.idx, s, e.Qty, err)
}

// statusErr turns a failed packet's NTSTATUS into the error the Win32 call would have
// returned: Winsock's code for sockets (as Go's runtime gets it), the DOS error otherwise.
func (d *Driver) statusErr(s *slot, st uint32) error {
	if s.hs != nil && s.hs.kind == kindSocket && s.ioh == s.hs.h {
		var n, flags uint32
		if err := windows.WSAGetOverlappedResult(s.ioh, &s.req.ov, &n, false, &flags); err != nil {
			return err
		}
	}
	return windows.NTStatus(st).Errno()
}

// complete handles the packet of op idx's call: n bytes moved, or err.
func (d *Driver) complete(idx int32, s *slot, n uint32, err error) {
	op := s.op
	switch op.Code {
	case poller.OpRead, poller.OpWrite:
		res := ioRes(op.Code == poller.OpRead, n, err)
		if res > 0 && op.Offset == -1 && s.hs.kind == kindFile {
			s.hs.pos += int64(res)
		}
		d.finish(idx, res, 0, 0)
	case poller.OpReadv, poller.OpWritev:
		if s.hs.kind != kindSocket {
			d.fileVecPacket(idx, s, op, n, err)
			return
		}
		d.finish(idx, ioRes(op.Code == poller.OpReadv, n, err), 0, 0)
	case poller.OpRecv:
		if op.Flags&poller.FlagBufferSelect != 0 {
			d.selectPacket(idx, s, op, n, err)
			return
		}
		d.finish(idx, ioRes(true, n, err), 0, 0)
	case poller.OpSend, poller.OpSendmsg:
		d.finish(idx, ioRes(false, n, err), 0, 0)
	case poller.OpRecvmsg:
		d.recvmsgPacket(idx, s, op, n, err)
	case poller.OpAccept:
		d.acceptPacket(idx, s, op, err)
	case poller.OpConnect:
		d.connectPacket(idx, s, err)
	case poller.OpPoll:
		d.pollPacket(idx, s, op, err)
	default:
		d.finish(idx, errRes(err), 0, 0)
	}
}

// ioRes is a transfer's result: the count, or 0 for a read that found the end (a file's
// end, a closed pipe), or the error. A datagram cut short is its count; recvmsg reports
// the truncation.
func ioRes(read bool, n uint32, err error) int32 {
	switch {
	case err == nil:
		return int32(n)
	case read && (err == windows.ERROR_HANDLE_EOF || err == windows.ERROR_BROKEN_PIPE):
		return 0
	case err == windows.WSAEMSGSIZE || err == windows.ERROR_MORE_DATA:
		return int32(n)
	case err == windows.ERROR_ACCESS_DENIED:
		// A handle not opened for this direction: what read(2) and write(2) call EBADF.
		return resBadf
	}
	return errRes(err)
}

package uring

import (
	"encoding/binary"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Socket, poll, timeout, cancellation and ring-to-ring operations. As with
// the file operations, every pointer argument stays in the caller's custody
// until the operation's final CQE.

// PrepAccept prepares accept4(2). addr and addrLen may be nil; if set,
// *addrLen holds the room in addr and both stay alive until the CQE, whose
// Res is the new fd.
func (s *SQE) PrepAccept(fd int, addr *unix.RawSockaddrAny, addrLen *uint32, flags int) {
	s.prep(OpAccept, fd, ptr(addr), 0, ptr(addrLen))
	s.OpFlags = uint32(flags)
}

// PrepMultishotAccept prepares an accept that posts one CQE (with
// CQEFlagMore) per connection until it fails or is cancelled; its last CQE
// lacks CQEFlagMore. addr, if set, is overwritten by each connection.
func (s *SQE) PrepMultishotAccept(fd int, addr *unix.RawSockaddrAny, addrLen *uint32, flags int) {
	s.PrepAccept(fd, addr, addrLen, flags)
	s.Ioprio = uint16(AcceptMultishot)
}

// PrepConnect prepares connect(2) to the sockaddr at addr (for example a
// *unix.RawSockaddrInet4), of addrLen bytes.
func (s *SQE) PrepConnect(fd int, addr unsafe.Pointer, addrLen uint32) {
	// SAFETY: addr is stored as an integer; the caller keeps the sockaddr
	// alive until the CQE.
	s.prep(OpConnect, fd, uint64(uintptr(addr)), 0, uint64(addrLen))
}

// PrepRecv prepares recv(2) into buf with MSG_* flags.
func (s *SQE) PrepRecv(fd int, buf []byte, flags int) {
	s.prep(OpRecv, fd, addrOf(buf), bufLen(buf), 0)
	s.OpFlags = uint32(flags)
}

// PrepRecvMultishot prepares a receive that takes a buffer from provided
// buffer group for each chunk of data, posting one CQE per chunk (with
// CQEFlagBuffer and CQEFlagMore) until the peer closes (Res 0), an error,
// -ENOBUFS when the group runs dry, or cancellation; the last CQE lacks
// CQEFlagMore.
func (s *SQE) PrepRecvMultishot(fd int, flags int, group uint16) {
	s.prep(OpRecv, fd, 0, 0, 0)
	s.OpFlags = uint32(flags)
	s.Ioprio = uint16(RecvMultishot)
	s.Flags = SQEBufferSelect
	s.BufIndex = group
}

// PrepSend prepares send(2) of buf with MSG_* flags.
func (s *SQE) PrepSend(fd int, buf []byte, flags int) {
	s.prep(OpSend, fd, addrOf(buf), bufLen(buf), 0)
	s.OpFlags = uint32(flags)
}

// PrepSendZC prepares a zero-copy send. It posts two CQEs: the result, with
// CQEFlagMore, then a notification with CQEFlagNotif once the kernel no
// longer reads buf; buf stays in the caller's custody until the latter.
func (s *SQE) PrepSendZC(fd int, buf []byte, flags int, zc RecvSendFlags) {
	s.prep(OpSendZC, fd, addrOf(buf), bufLen(buf), 0)
	s.OpFlags = uint32(flags)
	s.Ioprio = uint16(zc)
}

// PrepSendmsg prepares sendmsg(2). msg and everything it points to stay
// alive until the CQE.
func (s *SQE) PrepSendmsg(fd int, msg *unix.Msghdr, flags uint32) {
	s.prep(OpSendmsg, fd, ptr(msg), 1, 0)
	s.OpFlags = flags
}

// PrepRecvmsg prepares recvmsg(2).
func (s *SQE) PrepRecvmsg(fd int, msg *unix.Msghdr, flags uint32) {
	s.prep(OpRecvmsg, fd, ptr(msg), 1, 0)
	s.OpFlags = flags
}

// PrepRecvmsgMultishot prepares a multishot recvmsg with buffers from group.
// msg gives only the room for the name (Namelen) and control data
// (Controllen); each buffer is laid out as ParseRecvmsgOut describes.
func (s *SQE) PrepRecvmsgMultishot(fd int, msg *unix.Msghdr, flags uint32, group uint16) {
	s.PrepRecvmsg(fd, msg, flags)
	s.Ioprio = uint16(RecvMultishot)
	s.Flags = SQEBufferSelect
	s.BufIndex = group
}

// PrepShutdown prepares shutdown(2) with how = unix.SHUT_RD, SHUT_WR or
// SHUT_RDWR.
func (s *SQE) PrepShutdown(fd, how int) { s.prep(OpShutdown, fd, 0, uint32(how), 0) }

// PrepPollAdd prepares a one-shot poll for events (unix.POLLIN...); Res is
// the ready mask.
func (s *SQE) PrepPollAdd(fd int, events uint32) {
	s.prep(OpPollAdd, fd, 0, 0, 0)
	s.OpFlags = pollMask(events)
}

// PrepPollMultishot prepares a poll that posts a CQE (with CQEFlagMore) per
// readiness edge until removed or failed.
func (s *SQE) PrepPollMultishot(fd int, events uint32) {
	s.PrepPollAdd(fd, events)
	s.Len = uint32(PollAddMulti)
}

// PrepPollRemove prepares removal of the poll whose user_data is target.
func (s *SQE) PrepPollRemove(target uint64) {
	s.prep(OpPollRemove, -1, target, 0, 0)
}

// pollMask stores a 32-bit poll mask the way the kernel reads poll32_events:
// its 16-bit halves are swapped on big-endian machines, where the field
// overlays the older 16-bit poll_events.
func pollMask(events uint32) uint32 {
	if bigEndian {
		return events<<16 | events>>16
	}
	return events
}

var bigEndian = binary.NativeEndian.Uint16([]byte{0, 1}) == 1

// PrepTimeout prepares a timeout that completes with -ETIME after ts, or
// with 0 once count other completions have been posted (count 0: a pure
// timer). ts stays alive until the CQE.
func (s *SQE) PrepTimeout(ts *Timespec, count uint32, f TimeoutFlags) {
	s.prep(OpTimeout, -1, ptr(ts), 1, uint64(count))
	s.OpFlags = uint32(f)
}

// PrepTimeoutRemove prepares removal (or, with TimeoutUpdate, an update) of
// the timeout whose user_data is target; the timeout completes -ECANCELED.
func (s *SQE) PrepTimeoutRemove(target uint64, f TimeoutFlags) {
	s.prep(OpTimeoutRemove, -1, target, 0, 0)
	s.OpFlags = uint32(f)
}

// PrepLinkTimeout prepares a timeout for the SQE before it, which must
// carry SQEIOLink: if that operation has not completed after ts it is
// cancelled (-ECANCELED) and this one completes with -ETIME; otherwise this
// one completes with -ECANCELED.
func (s *SQE) PrepLinkTimeout(ts *Timespec, f TimeoutFlags) {
	s.prep(OpLinkTimeout, -1, ptr(ts), 1, 0)
	s.OpFlags = uint32(f)
}

// PrepCancel prepares cancellation of the request whose user_data is target
// (or, with CancelAny, of any request; with CancelAll, of every match). Res
// is 0 (cancelled), -ENOENT (not found: completed or never submitted) or
// -EALREADY (running; it may still complete normally), or with CancelAll
// the number cancelled. The target posts its own CQE either way.
func (s *SQE) PrepCancel(target uint64, f CancelFlags) {
	s.prep(OpAsyncCancel, -1, target, 0, 0)
	s.OpFlags = uint32(f)
}

// PrepCancelFd prepares cancellation of requests on fd (CancelFd is set;
// add CancelAll for all of them, CancelFdFixed for a registered file).
func (s *SQE) PrepCancelFd(fd int, f CancelFlags) {
	s.prep(OpAsyncCancel, fd, 0, 0, 0)
	s.OpFlags = uint32(f | CancelFd)
}

// PrepMsgRing prepares posting a CQE with Res res and UserData userData on
// the ring whose fd is ringFd. This ring gets its own CQE with Res 0 or
// -errno.
func (s *SQE) PrepMsgRing(ringFd int, res int32, userData uint64, f MsgRingFlags) {
	s.prep(OpMsgRing, ringFd, msgRingData, uint32(res), userData)
	s.OpFlags = uint32(f)
}

// PrepSplice prepares splice(2) of n bytes from fdIn at offIn to fdOut at offOut
// (an offset of -1: none, for a pipe or socket, or the file position), with
// SPLICE_F_* flags (SpliceFdInFixed says fdIn is a registered file index).
func (s *SQE) PrepSplice(fdIn int, offIn int64, fdOut int, offOut int64, n uint32, flags uint32) {
	s.prep(OpSplice, fdOut, uint64(offIn), n, uint64(offOut)) // Addr is splice_off_in
	s.FileIndex = uint32(int32(fdIn))                         // splice_fd_in
	s.OpFlags = flags                                         // splice_flags
}

// SpliceFdInFixed in PrepSplice's flags says fdIn is a registered file index
// (SPLICE_F_FD_IN_FIXED).
const SpliceFdInFixed = 1 << 31

package iocp

import (
	"math"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/zokio/zokio/poller"
)

// Socket calls. Every one is overlapped on the op's request: its WSABUFs, flags word,
// address length and OVERLAPPED live there until the packet arrives.

// The message flags an op's Arg may carry (poller's portable names, Linux's values on
// Windows), and their Winsock equivalents. MsgOOB and MsgPeek have the same values on
// both; MsgWaitAll does not. MsgDontWait, which Winsock lacks, is a readiness check
// before the call (dontWait); MsgNoSignal is ignored (Windows raises no SIGPIPE).
const (
	argMsgOOB     = poller.MsgOOB
	argMsgPeek    = poller.MsgPeek
	argMsgWaitAll = poller.MsgWaitAll
)

// msgFlags translates Winsock's MSG_TRUNC and MSG_CTRUNC in a WSARecvMsg result into
// poller's MsgTrunc and MsgCtrunc (the same bits on Windows).
func msgFlags(wsa uint32) int32 {
	var mf int32
	if wsa&windows.MSG_TRUNC != 0 {
		mf |= poller.MsgTrunc
	}
	if wsa&windows.MSG_CTRUNC != 0 {
		mf |= poller.MsgCtrunc
	}
	return mf
}

func wsaFlags(arg uint32) uint32 {
	f := arg & (argMsgOOB | argMsgPeek)
	if arg&argMsgWaitAll != 0 {
		f |= windows.MSG_WAITALL
	}
	return f
}

// wsabuf describes b, clamped so that a count always fits the result's int32.
func wsabuf(b []byte) windows.WSABuf {
	if len(b) == 0 {
		return windows.WSABuf{}
	}
	n := min(len(b), math.MaxInt32)
	return windows.WSABuf{Len: uint32(n), Buf: &b[0]}
}

// setBufs fills the request's WSABUF array from bufs (one empty entry for none).
func (r *request) setBufs(bufs ...[]byte) {
	r.bufs = r.bufs[:0]
	for _, b := range bufs {
		r.bufs = append(r.bufs, wsabuf(b))
	}
	if len(r.bufs) == 0 {
		r.bufs = append(r.bufs, windows.WSABuf{})
	}
}

// issueVec starts WSARecv or WSASend on Buf (OpRecv, OpSend) or Bufs (OpReadv, OpWritev).
func (d *Driver) issueVec(s *slot, op *poller.Op) (int32, bool) {
	r := s.req
	if op.Code == poller.OpRecv || op.Code == poller.OpSend {
		r.setBufs(op.Buf)
	} else {
		r.setBufs(op.Bufs...)
	}
	r.flags = wsaFlags(op.Arg)
	r.ov = windows.Overlapped{}
	var err error
	switch op.Code {
	case poller.OpRecv, poller.OpReadv:
		err = windows.WSARecv(s.ioh, &r.bufs[0], uint32(len(r.bufs)), &r.qty, &r.flags, &r.ov, nil)
	default:
		err = windows.WSASend(s.ioh, &r.bufs[0], uint32(len(r.bufs)), &r.qty, r.flags, &r.ov, nil)
	}
	return pending(err)
}

// rawAddr views a Sockaddr as Winsock's address type. SAFETY: Raw is 8-byte aligned
// and 128 bytes, larger than RawSockaddrAny; the op keeps it referenced while in flight.
func rawAddr(a *poller.Sockaddr) *windows.RawSockaddrAny {
	return (*windows.RawSockaddrAny)(unsafe.Pointer(&a.Raw[0]))
}

// issueRecvmsg receives into Bufs. On a stream socket that is a WSARecv (WSARecvMsg
// takes only datagrams); on a datagram socket WSARecvFrom, or WSARecvMsg when the op
// wants control data.
func (d *Driver) issueRecvmsg(s *slot, op *poller.Op) (int32, bool) {
	r := s.req
	r.setBufs(op.Bufs...)
	r.flags = wsaFlags(op.Arg)
	r.ov = windows.Overlapped{}
	if s.hs.sotype != windows.SOCK_DGRAM {
		return pending(windows.WSARecv(s.ioh, &r.bufs[0], uint32(len(r.bufs)), &r.qty, &r.flags, &r.ov, nil))
	}
	from := &r.from
	if op.Addr != nil {
		from = rawAddr(op.Addr)
	}
	if len(op.Control) == 0 {
		r.fromLen = int32(len(poller.Sockaddr{}.Raw))
		if op.Addr == nil {
			r.fromLen = int32(unsafe.Sizeof(r.from))
		}
		return pending(windows.WSARecvFrom(s.ioh, &r.bufs[0], uint32(len(r.bufs)), &r.qty, &r.flags,
			from, &r.fromLen, &r.ov, nil))
	}
	r.msg = windows.WSAMsg{
		Name:        (*syscallRawSockaddrAny)(unsafe.Pointer(from)),
		Namelen:     int32(unsafe.Sizeof(r.from)),
		Buffers:     &r.bufs[0],
		BufferCount: uint32(len(r.bufs)),
		Control:     wsabuf(op.Control),
		Flags:       r.flags,
	}
	r.fromLen = -1 // marks a WSARecvMsg for the packet
	return pending(windows.WSARecvMsg(s.ioh, &r.msg, &r.qty, &r.ov, nil))
}

// recvmsgPacket completes OpRecvmsg: the count, the source address, the control bytes
// (op.Len) and MsgTrunc or MsgCtrunc in op.MsgFlags.
func (d *Driver) recvmsgPacket(idx int32, s *slot, op *poller.Op, n uint32, err error) {
	r := s.req
	res := ioRes(true, n, err)
	var mf int32
	op.Len = 0
	if s.hs.sotype == windows.SOCK_DGRAM && res >= 0 {
		if r.fromLen == -1 {
			mf = msgFlags(r.msg.Flags)
			op.Len = int64(r.msg.Control.Len)
			if op.Addr != nil {
				op.Addr.Len = uint32(r.msg.Namelen)
			}
		} else if op.Addr != nil {
			op.Addr.Len = uint32(r.fromLen)
		}
		if err == windows.WSAEMSGSIZE || err == windows.ERROR_MORE_DATA {
			mf |= poller.MsgTrunc
		}
	} else if op.Addr != nil && res >= 0 {
		op.Addr.Len = 0 // a connected stream reports no source, as recvmsg(2) does
	}
	d.finishMsg(idx, res, 0, 0, mf)
}

// issueSendmsg sends Bufs: WSASend on a stream socket, WSASendTo on a datagram socket
// (to Addr if given), WSASendMsg when the op carries control data.
func (d *Driver) issueSendmsg(s *slot, op *poller.Op) (int32, bool) {
	r := s.req
	r.setBufs(op.Bufs...)
	r.flags = wsaFlags(op.Arg)
	r.ov = windows.Overlapped{}
	if s.hs.sotype != windows.SOCK_DGRAM {
		return pending(windows.WSASend(s.ioh, &r.bufs[0], uint32(len(r.bufs)), &r.qty, r.flags, &r.ov, nil))
	}
	var to *windows.RawSockaddrAny
	var toLen int32
	if op.Addr != nil && op.Addr.Len > 0 {
		to, toLen = rawAddr(op.Addr), int32(op.Addr.Len)
	}
	if len(op.Control) == 0 {
		return pending(windows.WSASendTo(s.ioh, &r.bufs[0], uint32(len(r.bufs)), &r.qty, r.flags, to, toLen, &r.ov, nil))
	}
	r.msg = windows.WSAMsg{
		Name:        (*syscallRawSockaddrAny)(unsafe.Pointer(to)),
		Namelen:     toLen,
		Buffers:     &r.bufs[0],
		BufferCount: uint32(len(r.bufs)),
		Control:     wsabuf(op.Control),
	}
	return pending(windows.WSASendMsg(s.ioh, &r.msg, r.flags, &r.qty, &r.ov, nil))
}

// family returns a socket's address family (from its bound address, or AF_INET).
func family(h windows.Handle) int32 {
	sa, err := windows.Getsockname(h)
	if err == nil {
		if _, ok := sa.(*windows.SockaddrInet6); ok {
			return windows.AF_INET6
		}
	}
	return windows.AF_INET
}

// issueAccept starts AcceptEx with a new overlapped socket of the listener's family.
// The socket is the request's until it is delivered; a failed or cancelled accept
// closes it.
func (d *Driver) issueAccept(s *slot, op *poller.Op) (int32, bool) {
	r := s.req
	if s.hs.family == 0 {
		s.hs.family = family(s.hs.h)
	}
	as, err := windows.WSASocket(s.hs.family, windows.SOCK_STREAM, windows.IPPROTO_TCP, nil, 0,
		windows.WSA_FLAG_OVERLAPPED|windows.WSA_FLAG_NO_HANDLE_INHERIT)
	if err != nil {
		return errRes(err), true
	}
	r.accept = as
	r.ov = windows.Overlapped{}
	err = windows.AcceptEx(s.ioh, as, &r.addrs[0], 0, uint32(acceptAddrLen), uint32(acceptAddrLen), &r.qty, &r.ov)
	if res, done := pending(err); done {
		windows.Closesocket(as)
		r.accept = 0
		return res, true
	}
	return 0, false
}

// acceptPacket completes an AcceptEx: the new socket inherits the listener's properties
// (SO_UPDATE_ACCEPT_CONTEXT, so getpeername and shutdown work on it) and is delivered;
// a multishot accept issues the next one, unless it was cancelled.
func (d *Driver) acceptPacket(idx int32, s *slot, op *poller.Op, err error) {
	r := s.req
	as := r.accept
	r.accept = 0
	if err == nil {
		ls := s.hs.h
		err = windows.Setsockopt(as, windows.SOL_SOCKET, windows.SO_UPDATE_ACCEPT_CONTEXT,
			(*byte)(unsafe.Pointer(&ls)), int32(unsafe.Sizeof(ls)))
		if err == nil && uint64(as) > math.MaxInt32 {
			err = windows.WSAEMFILE // cannot be reported in Res
		}
	}
	if err != nil {
		windows.Closesocket(as)
		d.finish(idx, errRes(err), 0, 0)
		return
	}
	if op.Addr != nil {
		var lsa, rsa *windows.RawSockaddrAny
		var llen, rlen int32
		windows.GetAcceptExSockaddrs(&r.addrs[0], 0, uint32(acceptAddrLen), uint32(acceptAddrLen), &lsa, &llen, &rsa, &rlen)
		if rsa != nil && rlen > 0 && int(rlen) <= len(op.Addr.Raw) {
			// SAFETY: GetAcceptExSockaddrs points rsa at rlen bytes inside r.addrs.
			copy(op.Addr.Raw[:], unsafe.Slice((*byte)(unsafe.Pointer(rsa)), rlen))
			op.Addr.Len = uint32(rlen)
		}
	}
	if op.Flags&poller.FlagMultishot == 0 {
		d.finish(idx, int32(as), 0, 0)
		return
	}
	d.post(idx, int32(as), 0, 0)
	if s.flags&fCancelled != 0 {
		d.finish(idx, resCanceled, 0, 0)
		return
	}
	d.stats.Rearms++
	if res, done := d.issueAccept(s, op); done {
		d.finish(idx, res, 0, 0)
	}
}

// issueConnect starts ConnectEx, which needs a bound socket: an unbound one is bound to
// the wildcard address of the target's family first, as connect(2) would implicitly.
func (d *Driver) issueConnect(s *slot, op *poller.Op) (int32, bool) {
	fam := *(*uint16)(unsafe.Pointer(&op.Addr.Raw[0]))
	if _, err := windows.Getsockname(s.ioh); err != nil {
		var sa windows.Sockaddr = &windows.SockaddrInet4{}
		if fam == windows.AF_INET6 {
			sa = &windows.SockaddrInet6{}
		}
		if err := windows.Bind(s.ioh, sa); err != nil {
			return errRes(err), true
		}
	}
	r := s.req
	r.ov = windows.Overlapped{}
	return pending(callConnectEx(s.ioh, unsafe.Pointer(&op.Addr.Raw[0]), int32(op.Addr.Len), &r.ov))
}

// connectPacket completes ConnectEx; SO_UPDATE_CONNECT_CONTEXT makes getpeername,
// getsockname and shutdown work on the socket.
func (d *Driver) connectPacket(idx int32, s *slot, err error) {
	if err == nil {
		err = windows.Setsockopt(s.ioh, windows.SOL_SOCKET, windows.SO_UPDATE_CONNECT_CONTEXT, nil, 0)
	}
	d.finish(idx, errRes(err), 0, 0)
}

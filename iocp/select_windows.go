package iocp

import (
	"golang.org/x/sys/windows"

	"github.com/zokio/zokio/poller"
)

// OpRecv with FlagBufferSelect, as epoll's driver does it, with completion calls: a
// zero-byte WSARecv first, which completes when data (or the end of the stream) is
// there without tying up a buffer while the socket is idle; then a WSARecv into a
// buffer taken from the group, which finds the data already there. A multishot receive
// repeats; after one that filled its whole buffer, more data is likely waiting, so the
// next receive goes straight into a buffer. Datagram sockets skip the zero-byte
// receive, which would consume a datagram. Every buffer a completion names is the
// reader's to release; a receive that ends without data gives its buffer back.

// issueSelect starts the first call of a buffer-select receive.
func (d *Driver) issueSelect(idx int32, s *slot, op *poller.Op) (int32, bool) {
	if s.hs.sotype == windows.SOCK_DGRAM {
		return d.recvIntoGroup(s, op)
	}
	return d.recvZero(s)
}

// recvZero starts the zero-byte readiness receive.
func (d *Driver) recvZero(s *slot) (int32, bool) {
	r := s.req
	r.bufs = append(r.bufs[:0], windows.WSABuf{Len: 0, Buf: &r.one[0]})
	r.flags = 0
	r.ov = windows.Overlapped{}
	s.flags |= fZeroRecv
	res, done := pending(windows.WSARecv(s.ioh, &r.bufs[0], 1, &r.qty, &r.flags, &r.ov, nil))
	if done {
		s.flags &^= fZeroRecv
	}
	return res, done
}

// recvIntoGroup takes the group's next free buffer and receives into it; with none
// free the receive ends with ENOBUFS, leaving the data in the socket.
func (d *Driver) recvIntoGroup(s *slot, op *poller.Op) (int32, bool) {
	g := d.group(op.Group)
	var ids [1]uint16
	if g.PeekN(ids[:]) == 0 {
		return resNoBufs, true
	}
	g.Take()
	r := s.req
	r.bufID, r.hasBuf = ids[0], true
	b := g.View(ids[0])
	r.bufs = append(r.bufs[:0], wsabuf(b))
	r.flags = wsaFlags(op.Arg)
	r.ov = windows.Overlapped{}
	res, done := pending(windows.WSARecv(s.ioh, &r.bufs[0], 1, &r.qty, &r.flags, &r.ov, nil))
	if done {
		d.giveBack(s, op)
	}
	return res, done
}

// giveBack returns a buffer that received nothing.
func (d *Driver) giveBack(s *slot, op *poller.Op) {
	if s.req.hasBuf {
		s.req.hasBuf = false
		d.group(op.Group).Release(s.req.bufID)
	}
}

// selectPacket handles the packet of either call.
func (d *Driver) selectPacket(idx int32, s *slot, op *poller.Op, n uint32, err error) {
	multi := op.Flags&poller.FlagMultishot != 0
	if s.flags&fZeroRecv != 0 {
		s.flags &^= fZeroRecv
		switch {
		case err != nil:
			d.finish(idx, ioRes(true, 0, err), 0, 0)
		case s.flags&fCancelled != 0:
			d.finish(idx, resCanceled, 0, 0)
		default:
			if res, done := d.recvIntoGroup(s, op); done {
				d.finish(idx, res, 0, 0)
			}
		}
		return
	}
	res := ioRes(true, n, err)
	if res <= 0 {
		d.giveBack(s, op)
		d.finish(idx, res, 0, 0)
		return
	}
	id := s.req.bufID
	s.req.hasBuf = false
	if !multi {
		d.finish(idx, res, poller.ResBuffer, id)
		return
	}
	d.post(idx, res, id, poller.ResBuffer)
	if s.flags&fCancelled != 0 {
		d.finish(idx, resCanceled, 0, 0)
		return
	}
	var r int32
	var done bool
	if s.hs.sotype == windows.SOCK_DGRAM || int(n) == d.group(op.Group).Size() {
		r, done = d.recvIntoGroup(s, op)
	} else {
		r, done = d.recvZero(s)
	}
	if done {
		d.finish(idx, r, 0, 0)
	}
}

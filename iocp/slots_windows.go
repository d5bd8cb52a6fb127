package iocp

import (
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/zokio/zokio/poller"
)

// Op.Ref layout: bits 63..32 the slot's generation, bits 31..0 the slot number plus one
// (so that a Ref is never zero). The same pair sits in the slot's request, next to its
// OVERLAPPED: a packet names its op through them, and one whose generation is not its
// slot's any more is stale and dropped.
func makeRef(idx int32, gen uint32) uint64 { return uint64(gen)<<32 | uint64(uint32(idx)+1) }

func splitRef(ref uint64) (idx int32, gen uint32) {
	return int32(uint32(ref)) - 1, uint32(ref >> 32)
}

// Slot states: free → chained (waits for its FlagLink predecessor) or started; a started
// op is pending (an overlapped call or a worker job outstanding: a packet will come),
// timer (OpTimeout: only the heap holds it), or closing (OpClose: waits for its handle's
// other ops); done once its final result is queued for delivery; free when Wait has
// delivered it. A multishot op goes from pending to pending, each packet delivering a
// ResMore result and issuing the next call.
const (
	stFree uint8 = iota
	stChained
	stPending
	stTimer
	stClosing
	stDone
)

var stateNames = [...]string{"free", "chained", "pending", "timer", "closing", "done"}

// Slot flags.
const (
	fCancelled   uint8 = 1 << iota // Cancel (or a Timeout, or Close) asked for cancellation
	fTimedOut                      // Op.Timeout passed: a cancellation result becomes ETIME
	fTimer                         // Op.Timeout is armed in the heap
	fCloseCancel                   // Close cancelled it
	fWorker                        // the outstanding job is on a worker, not in the kernel
	fZeroRecv                      // the outstanding call is a zero-byte WSARecv (readiness)
)

// slot is one entry of the in-flight table. req is allocated with the slot and reused by
// every op the slot carries, so its address is stable for as long as a call uses it.
type slot struct {
	op       *poller.Op
	req      *request
	hs       *handle        // the handle the op holds a reference on, or nil
	ioh      windows.Handle // the handle its outstanding call is on, for CancelIoEx
	gen      uint32
	state    uint8
	flags    uint8
	link     int32 // FlagLink successor's slot number plus one, 0 none
	lprev    int32 // FlagLink predecessor's slot number plus one, while chained
	linkFail bool  // the predecessor failed: runLinks completes it with ECANCELED
}

// request is what a pending call reads or writes by pointer. ov is its first field, so a
// packet's *Overlapped is the request's address; idx and gen say which op it was for.
type request struct {
	ov  windows.Overlapped
	idx int32
	gen uint32

	qty     uint32 // bytes transferred, for calls that ask
	flags   uint32 // WSARecv's flags word, in and out
	fromLen int32  // WSARecvFrom's address length, in and out
	bufs    []windows.WSABuf
	msg     windows.WSAMsg
	poll    afdPollInfo
	accept  windows.Handle          // AcceptEx's new socket until it is delivered
	addrs   [2 * acceptAddrLen]byte // AcceptEx's local and remote addresses
	from    windows.RawSockaddrAny  // WSARecvFrom's source, for ops without Addr
	one     [1]byte                 // a zero-byte receive's buffer: never written
	bufID   uint16                  // the group buffer a receive fills
	hasBuf  bool                    // bufID is taken from the group
	vec     int                     // file readv/writev: the buffer being done
	vecDone int64                   // file readv/writev: bytes so far
	off     int64                   // file readv/writev: the starting offset
	job     job                     // a worker's arguments
	wres    atomic.Int32            // a worker's result: stored before its packet is posted
	wcancel atomic.Bool             // set by Cancel: a worker that has not started skips the op
}

// acceptAddrLen is the room AcceptEx needs per address: the largest sockaddr plus 16.
const acceptAddrLen = int(unsafe.Sizeof(windows.RawSockaddrAny{})) + 16

// reqOf maps a packet's OVERLAPPED back to its request. SAFETY: every OVERLAPPED the
// driver hands to Windows is the first field of a request that the slot table keeps
// referenced until this packet arrives, so the pointer is to a live request.
func reqOf(ov *windows.Overlapped) *request { return (*request)(unsafe.Pointer(ov)) }

// completion is a result waiting for Wait to deliver it.
type completion struct {
	slot     int32
	gen      uint32
	res      int32
	flags    poller.ResultFlags
	buf      uint16
	msgFlags int32
}

// alloc takes a free slot for op and sets op.Ref.
func (d *Driver) alloc(op *poller.Op) int32 {
	var idx int32
	if n := len(d.free); n > 0 {
		idx = d.free[n-1]
		d.free = d.free[:n-1]
	} else {
		idx = int32(len(d.slots))
		d.slots = append(d.slots, &slot{req: &request{}})
	}
	s := d.slots[idx]
	s.gen++
	if s.gen == 0 {
		s.gen = 1
	}
	s.op, s.state, s.flags = op, stPending, 0
	s.req.idx, s.req.gen = idx, s.gen
	op.Ref = makeRef(idx, s.gen)
	d.live++
	return idx
}

// release frees slot idx at its final delivery.
func (d *Driver) release(idx int32, s *slot) {
	s.op, s.state, s.flags, s.ioh = nil, stFree, 0, 0
	s.link, s.lprev, s.linkFail = 0, 0, false
	r := s.req
	r.job = job{}
	clear(r.bufs)
	r.bufs = r.bufs[:0]
	r.msg = windows.WSAMsg{}
	d.free = append(d.free, idx)
	d.live--
}

// lookup returns the live slot a Ref names, or nil if the Ref is zero or stale.
func (d *Driver) lookup(ref uint64) (*slot, int32) {
	if ref == 0 {
		return nil, 0
	}
	idx, gen := splitRef(ref)
	if idx < 0 || int(idx) >= len(d.slots) {
		return nil, 0
	}
	s := d.slots[idx]
	if s.gen != gen || s.state == stFree {
		return nil, 0
	}
	return s, idx
}

// finish queues op idx's final result and settles its chain successor, its timer and its
// handle reference.
func (d *Driver) finish(idx int32, res int32, flags poller.ResultFlags, buf uint16) {
	d.finishMsg(idx, res, flags, buf, 0)
}

func (d *Driver) finishMsg(idx int32, res int32, flags poller.ResultFlags, buf uint16, msgFlags int32) {
	s := d.slots[idx]
	if s.flags&fTimer != 0 {
		d.timers.Remove(idx)
		s.flags &^= fTimer
	}
	if s.flags&fTimedOut != 0 && res == resCanceled {
		res = -int32(poller.ETIME)
	}
	s.state = stDone
	d.comp = append(d.comp, completion{slot: idx, gen: s.gen, res: res, flags: flags &^ poller.ResMore,
		buf: buf, msgFlags: msgFlags})
	if next := s.link; next != 0 {
		s.link = 0
		n := d.slots[next-1]
		n.lprev = 0
		n.linkFail = !linkOK(s.op, res)
		d.linkq = append(d.linkq, next-1)
	}
	if hs := s.hs; hs != nil {
		s.hs = nil
		d.unref(hs)
	}
}

// post queues a ResMore result of a multishot op that stays in flight.
func (d *Driver) post(idx int32, res int32, buf uint16, flags poller.ResultFlags) {
	d.comp = append(d.comp, completion{slot: idx, gen: d.slots[idx].gen, res: res, flags: flags | poller.ResMore, buf: buf})
}

// linkOK reports whether a completion lets the next op of its chain run: io_uring fails
// a link on an error and on a short read or write.
func linkOK(op *poller.Op, res int32) bool {
	if res < 0 {
		return false
	}
	switch op.Code {
	case poller.OpRead, poller.OpWrite:
		return int(res) == len(op.Buf)
	case poller.OpReadv, poller.OpWritev:
		return int(res) == totalLen(op.Bufs)
	}
	return true
}

func totalLen(bufs [][]byte) int {
	n := 0
	for _, b := range bufs {
		n += len(b)
	}
	return n
}

// cancelIO asks for an outstanding call's cancellation, once. ERROR_NOT_FOUND means the
// call already completed: its packet is queued and carries the real result.
func (d *Driver) cancelIO(s *slot) {
	if s.flags&fCancelled != 0 {
		return
	}
	s.flags |= fCancelled
	if s.flags&fWorker != 0 {
		// Pairs with the worker's Load before it starts the op.
		s.req.wcancel.Store(true)
		return
	}
	if s.ioh != 0 {
		_ = windows.CancelIoEx(s.ioh, &s.req.ov)
	}
}

package uring

import (
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/zokio/zokio/poller"
)

// user_data layout for the driver's SQEs:
//
//	bits 63..56  tag: what the completion belongs to (tagOp, tagWake, tagInternal)
//	bits 55..32  generation of the slot (24 bits, wraps)
//	bits 31..0   slot index
//
// A completion whose generation differs from its slot's is stale (the slot was freed
// and reused) and is dropped. Internal SQEs (cancel requests, linked timeouts) carry
// tagInternal and point at no Go memory once consumed, so their completions are ignored.
const (
	tagOp       = 1
	tagWake     = 2
	tagInternal = 3
	// tagSplicePoll marks the POLL_ADD linked before an OpSplice (see prepSplicePoll);
	// its completion is ignored, and Cancel of the splice cancels it by this user_data.
	tagSplicePoll = 4

	tagShift = 56
	genShift = 32
	genMask  = 1<<24 - 1
)

func userData(tag uint64, gen uint32, idx int32) uint64 {
	return tag<<tagShift | uint64(gen&genMask)<<genShift | uint64(uint32(idx))
}

func splitUserData(ud uint64) (tag uint64, gen uint32, idx int32) {
	return ud >> tagShift, uint32(ud>>genShift) & genMask, int32(uint32(ud))
}

// Slot states: free → pending (accepted, no SQE yet) → submitted (SQE in the ring or
// the kernel) → free at the final completion. OpClose may wait in closing until its
// descriptor's other ops are done; an op whose result is known without the kernel
// waits in ready until Wait delivers it.
const (
	stateFree uint8 = iota
	statePending
	stateSubmitted
	stateClosing
	stateReady
)

const (
	slotTimeout   uint8 = 1 << iota // a LINK_TIMEOUT follows the op's SQE
	slotCancelled                   // Cancel was called
	slotFdRef                       // the op holds a count in fdRefs
	slotChainEnd                    // a cancelled later member cut the op's chain: it ends here
)

// slot is one entry of the in-flight table. sc holds what the kernel reads by pointer
// (iovecs, msghdr, timespec, NUL-terminated paths); it is allocated once per slot and
// reused, so its address is stable for as long as an op uses it.
type slot struct {
	op    *poller.Op
	sc    *scratch
	gen   uint32
	state uint8
	flags uint8
	res   int32 // the result of a stateReady op
}

type scratch struct {
	iov   []unix.Iovec
	msg   unix.Msghdr
	ts    Timespec
	path  []byte
	path2 []byte
	// pollRes is the result of the POLL_ADD linked before an OpSplice, when it
	// failed: the splice behind it then completes with ECANCELED, and reports this.
	pollRes int32
}

// slotTable is the driver's in-flight table: slots reached by index, a stack of free
// indices. Slots are never shrunk, so indices stay valid for the driver's life.
type slotTable struct {
	s     []slot
	free  []int32
	inUse int
}

func (t *slotTable) alloc(op *poller.Op) int32 {
	var idx int32
	if n := len(t.free); n > 0 {
		idx = t.free[n-1]
		t.free = t.free[:n-1]
	} else {
		t.s = append(t.s, slot{})
		idx = int32(len(t.s) - 1)
	}
	s := &t.s[idx]
	s.op, s.state, s.flags = op, statePending, 0
	op.Ref = userData(tagOp, s.gen, idx)
	t.inUse++
	return idx
}

func (t *slotTable) at(idx int32) *slot { return &t.s[idx] }

// release frees idx and returns its op. The generation moves on, so a late completion
// for the old occupant is recognised as stale.
func (t *slotTable) release(idx int32) *poller.Op {
	s := &t.s[idx]
	op := s.op
	s.op, s.state, s.flags = nil, stateFree, 0
	s.gen = (s.gen + 1) & genMask
	t.free = append(t.free, idx)
	t.inUse--
	return op
}

// lookup finds op's slot, checking that op is in flight on this table.
func (t *slotTable) lookup(op *poller.Op) (int32, bool) {
	if op == nil || op.Ref == 0 {
		return 0, false
	}
	tag, gen, idx := splitUserData(op.Ref)
	if tag != tagOp || idx < 0 || int(idx) >= len(t.s) {
		return 0, false
	}
	s := &t.s[idx]
	return idx, s.op == op && s.gen == gen && s.state != stateFree
}

// scratchOf returns idx's scratch, allocating it on the slot's first use.
func (t *slotTable) scratchOf(idx int32) *scratch {
	s := &t.s[idx]
	if s.sc == nil {
		s.sc = new(scratch)
	}
	return s.sc
}

// waker lets any goroutine interrupt the owner's Wait. The owner keeps a read of an
// eventfd in flight in the ring; Wake writes the eventfd, the read completes, and the
// owner's wait returns.
//
// Protocol: Wake does pending.CompareAndSwap(false, true) and writes only if it won, so
// wakes coalesce into one syscall. The owner, on the read's completion, stores
// pending=false and only then re-arms the read. A Wake that loses the CAS happened
// before that store, and so before the owner returns from Wait and looks at its work:
// whatever the waker published before calling Wake is seen. A Wake after the store
// writes the eventfd, whose counter persists until the re-armed read consumes it.
// Nothing is lost.
//
// With a batch wait (DriverConfig.BatchWait on a kernel with min-wait), the kernel
// would not end the wait for the read's completion alone: it holds out for the batch
// until the min-wait has passed, however long that is. So the read is then linked to
// a zero-length timeout, which fires as soon as the read completes; a fired timeout
// ends any wait in io_uring_enter at once (the kernel's cq_timeouts check), min-wait
// or not. The pair always posts two CQEs (the read's, then the timer's ETIME, or
// ECANCELED when the read failed or Close cancelled it), and the second one ends it.
// (CQE_SKIP_SUCCESS on the read would save one, but a cancelled timer after a
// successful read would then be indistinguishable from a failed read's.)
type waker struct {
	fd      int
	pending atomic.Bool
	closed  atomic.Bool
	mu      sync.RWMutex // Wake's write against Close's close(2) of fd
	buf     [8]byte      // the read's target; the Driver is heap-allocated and kept until Close
	zero    Timespec     // the linked timeout's duration, read by the kernel while it is armed
	cut     bool         // the read is linked to a timeout, to cut batch waits short
	seen    uint8        // owner only: CQEs of the armed pair seen so far (with cut)
	armed   bool         // owner only: a read is in flight
	woken   bool         // owner only: a wake completion arrived during this Wait
}

// The idx field of a wake CQE's user_data: which SQE of the pair it is.
const (
	wakeRead  = 0
	wakeTimer = 1
)

func (w *waker) open() error {
	fd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		w.fd = -1
		return err
	}
	w.fd = fd
	return nil
}

var eventfdOne = [8]byte{1} // little-endian 1, as eventfd(2) wants a host uint64

func (w *waker) signal() error {
	if w.closed.Load() {
		return poller.ErrClosed // every time, whether or not a wake was pending at Close
	}
	if w.pending.Load() || !w.pending.CompareAndSwap(false, true) {
		return nil // a write is already on its way; its read will wake the owner
	}
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.closed.Load() {
		return poller.ErrClosed // closed meanwhile: the eventfd may be gone
	}
	for {
		_, err := unix.Write(w.fd, eventfdOne[:])
		if err != unix.EINTR {
			// EAGAIN means the counter is at its maximum: a wake is pending anyway.
			if err == unix.EAGAIN {
				return nil
			}
			return err
		}
	}
}

func (w *waker) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed.Swap(true) && w.fd >= 0 {
		unix.Close(w.fd)
		w.fd = -1
	}
}

var slotStateNames = [...]string{stateFree: "free", statePending: "pending", stateSubmitted: "submitted",
	stateClosing: "closing", stateReady: "ready"}

// InFlight implements poller.InFlightReporter: every slot that holds an op, in slot
// order. Call it only from the goroutine that calls Wait (or while none runs).
func (d *Driver) InFlight(dst []poller.InFlightOp) []poller.InFlightOp {
	for i := range d.slots.s {
		s := &d.slots.s[i]
		if s.state == stateFree || s.op == nil {
			continue
		}
		name := "?"
		if int(s.state) < len(slotStateNames) {
			name = slotStateNames[s.state]
		}
		dst = append(dst, poller.InFlightOp{Slot: int32(i), Gen: s.gen, State: name,
			Code: s.op.Code, Fd: s.op.Fd, Flags: s.op.Flags})
	}
	return dst
}

var _ poller.InFlightReporter = (*Driver)(nil)

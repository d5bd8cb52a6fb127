//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package poller

import (
	"math"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// emul is the readiness-emulation core that the epoll driver (and later the kqueue
// driver) is built on. It turns "try the syscall, wait for readiness on EAGAIN, retry"
// into the Driver contract's exactly-once completions:
//
//   - Submit validates the op and tries its syscall at once, on a non-blocking
//     descriptor. A result is queued for the next Wait: Done never runs inside Submit.
//   - On EAGAIN the op joins one of its descriptor's FIFO queues (readers, writers,
//     pollers) and the kernel backend is asked to report readiness. Readiness retries
//     the head of the queue first, and an op never overtakes a queued one, so two sends
//     on one stream cannot reorder.
//   - Each Wait gives a ready descriptor a bounded turn (perFd attempts a direction);
//     one that still has work keeps its place in the ready list for the next Wait,
//     because an edge-triggered kernel will not report it again (C6).
//   - File and path ops run on a bounded worker pool (workers_unix.go).
//   - Timers (OpTimeout and Op.Timeout) live in a 4-ary heap keyed by slot index.
//
// The kernel-specific parts (registration, waiting, the wake) sit behind the Backend
// interface (core.go); the syscalls that differ per OS sit in sys_*.go.
//
// An emul is used only by the goroutine that owns its driver.
type emul struct {
	k    Backend
	name string
	cfg  emulConfig

	slots    pagedTable[slot]
	nslots   int32 // slots created so far; index 0 is never used
	freeSlot int32 // head of the free list, linked through slot.next

	fds    pagedTable[fdState]
	ready  []int32 // descriptors with readiness not yet used up
	spare  []int32
	comp   compQueue
	timers timerHeap
	pool   pool
	pend   opList  // file ops waiting for a free worker job, FIFO
	linkq  []int32 // chain successors whose predecessor finished; see runLinks
	groups []*emulGroup

	// An open FlagLink chain, not started yet, as Refs: Done callbacks may cancel a
	// chained op and see it delivered, and its slot reused, before the chain ends.
	chainHead, chainTail uint64

	stats  Stats     // Submitted, Completions here; the backend counts Enters and Wakeups
	base   time.Time // origin of the monotonic deadlines in the timer heap
	inWait bool
	closed bool
	splice bool // the driver offers OpSplice (FeatSplice): epoll on Linux
	sc     scratch
}

// emulConfig holds the limits of the core; zero fields are replaced by defaults.
type emulConfig struct {
	workers   int // worker goroutines for file ops
	maxQueued int // file ops handed to the pool and not yet reaped
	perFd     int // attempts per descriptor and direction in one Wait
	batch     int // completions delivered by one Wait
}

// Op states inside the core (slot.state). The life of one in-flight op:
//
//	free → chained  (submitted; waits for its FlagLink predecessor or the end of its chain)
//	     → one of   queued   (in a descriptor queue, waiting for readiness)
//	                timer    (an OpTimeout in the heap)
//	                pending  (a file op waiting for a worker job, FIFO)
//	                worker   (a file op in the worker pool)
//	                closing  (an OpClose draining its descriptor)
//	     → done     (its final completion is queued)
//	     → free     (Wait delivered that completion and called Done)
//
// A multishot op posts ResMore completions while queued; they are delivered in order
// before its final one. An op with Op.Timeout is also in the timer heap while started.
type slotState uint8

const (
	stFree slotState = iota
	stChained
	stQueued
	stTimer
	stPending
	stWorker
	stClosing
	stDone
)

// slot is the core's record of one in-flight op.
type slot struct {
	op         *Op
	gen        uint32
	state      slotState
	dir        uint8 // the descriptor queue holding it (queued)
	prev, next int32 // descriptor queue or pending list; next also links free slots
	link       int32 // FlagLink successor, 0 none
	lprev      int32 // FlagLink predecessor while chained, 0 none
	fd         int32 // descriptor whose queue or workOps count holds it, -1 none
	job        int32 // worker job index (worker)
	done       int   // bytes already moved by a MSG_WAITALL send or recv; connect started
	linkFail   bool  // its predecessor failed: runLinks completes it with ECANCELED
}

// Op.Ref layout: the slot's generation in the high 32 bits, the slot index (≥ 1) in
// the low 32. Index 0 is never used, so a Ref is never 0 while in flight and 0 means
// "none" in every intrusive list. A Ref whose generation differs from its slot's is
// stale: Cancel refuses it.
func makeRef(idx int32, gen uint32) uint64 { return uint64(gen)<<32 | uint64(uint32(idx)) }

func splitRef(ref uint64) (idx int32, gen uint32) {
	return int32(uint32(ref)), uint32(ref >> 32)
}

func (e *emul) init(k Backend, name string, cfg emulConfig) {
	e.k, e.name, e.cfg = k, name, cfg
	e.base = time.Now()
	e.pool.init(cfg.workers, cfg.maxQueued, func() { _ = k.Signal() })
}

func (e *emul) slot(idx int32) *slot { return e.slots.at(int(idx)) }

// now is the core's monotonic clock, in nanoseconds since init.
func (e *emul) now() int64 { return int64(time.Since(e.base)) }

func (e *emul) alloc(op *Op) int32 {
	idx := e.freeSlot
	var s *slot
	if idx != 0 {
		s = e.slot(idx)
		e.freeSlot = s.next
	} else {
		e.nslots++
		idx = e.nslots
		s = e.slot(idx)
		s.gen = 1
	}
	*s = slot{op: op, gen: s.gen, state: stChained, fd: -1}
	op.Ref = makeRef(idx, s.gen)
	return idx
}

func (e *emul) release(idx int32, s *slot) {
	s.op = nil
	s.state = stFree
	s.gen++
	if s.gen == 0 {
		s.gen = 1
	}
	s.next = e.freeSlot
	e.freeSlot = idx
}

// submit implements Driver.Submit.
func (e *emul) submit(op *Op) error {
	if e.closed {
		return ErrClosed
	}
	if err := Validate(op); err != nil {
		return err
	}
	if err := e.supported(op); err != nil {
		return err
	}
	e.stats.Submitted++
	idx := e.alloc(op)
	s := e.slot(idx)
	switch {
	case e.chainTail != 0:
		if t, tidx := e.live(e.chainTail); t != nil && t.state == stChained {
			t.link, s.lprev = idx, tidx
		} else {
			// The chain lost an op to Cancel; the rest of it fails as io_uring's would.
			e.finish(idx, -int32(unix.ECANCELED), 0, 0)
		}
		e.chainTail = op.Ref
		if op.Flags&FlagLink == 0 {
			e.closeChain()
		}
	case op.Flags&FlagLink != 0:
		e.chainHead, e.chainTail = op.Ref, op.Ref
	default:
		e.start(idx)
	}
	e.runLinks()
	return nil
}

// supported refuses the flags that need a completion engine. FlagAsync (a hint for
// io_uring) and FlagSubmitNow are accepted and ignored: submit already starts an op at
// once (the syscall tried, readiness armed, or the file op handed to a worker; a chain
// at its last op), which is all that FlagSubmitNow asks.
func (e *emul) supported(op *Op) error {
	switch {
	case op.Code == OpSendZC, op.Code == OpSplice && !e.splice:
		return &UnsupportedError{Driver: e.name, Code: op.Code}
	case op.Flags&FlagFixedFile != 0:
		return &UnsupportedError{Driver: e.name, Code: op.Code, What: "FlagFixedFile"}
	case op.Flags&FlagFixedBuffer != 0:
		return &UnsupportedError{Driver: e.name, Code: op.Code, What: "FlagFixedBuffer"}
	case op.Flags&FlagBufferSelect != 0 && e.group(op.Group) == nil:
		return &InvalidOpError{Code: op.Code, Reason: "unknown buffer group"} // as every driver
	}
	return nil
}

// closeChain starts an open FlagLink chain: at its last op, or at the next Wait when
// the caller left it open.
func (e *emul) closeChain() {
	h, idx := e.live(e.chainHead)
	e.chainHead, e.chainTail = 0, 0
	if h != nil && h.state == stChained {
		e.start(idx)
	}
}

// live returns the slot a Ref names, or nil if the Ref is 0 or stale.
func (e *emul) live(ref uint64) (*slot, int32) {
	idx, gen := splitRef(ref)
	if s := e.slots.peek(int(idx)); idx > 0 && s != nil && s.gen == gen && s.state != stFree {
		return s, idx
	}
	return nil, 0
}

// start runs a submitted op whose turn has come.
func (e *emul) start(idx int32) {
	s := e.slot(idx)
	op := s.op
	if e.closed {
		e.finish(idx, -int32(unix.ECANCELED), 0, 0)
		return
	}
	switch {
	case op.Code == OpNop:
		e.finish(idx, 0, 0, 0)
	case op.Code == OpTimeout:
		e.startTimer(idx, s, op)
	case op.Code == OpClose:
		e.startClose(idx, s, op)
	case op.Code == OpShutdown:
		res := errRes(unix.EBADF)
		if _, errno := e.fdFor(op.Fd); errno == 0 {
			res = errRes(unix.Shutdown(op.Fd, int(op.Arg)))
		}
		e.finish(idx, res, 0, 0)
	case op.Code == OpPoll:
		e.startPoll(idx, s, op)
	case op.Code == OpSplice:
		e.startSplice(idx, s, op)
	case op.Code.IsFileOp():
		e.startFile(idx, s, op)
	default:
		e.startIO(idx, s, op)
	}
	// Op.Timeout counts from the op's start (for the last op of a chain, from when its
	// predecessor succeeded), as an io_uring linked timeout does; an op that finished
	// inline arms nothing.
	if op.Timeout > 0 && op.Code != OpTimeout && s.state != stDone {
		e.timers.push(idx, e.deadline(op.Timeout))
	}
}

func (e *emul) deadline(d time.Duration) int64 {
	now := e.now()
	if int64(d) > math.MaxInt64-now {
		return math.MaxInt64
	}
	return now + int64(d)
}

func (e *emul) startTimer(idx int32, s *slot, op *Op) {
	if op.Timeout == 0 {
		e.finish(idx, -int32(ETIME), 0, 0)
		return
	}
	s.state = stTimer
	e.timers.push(idx, e.deadline(op.Timeout))
}

// finish records op idx's final completion and decides its chain successor's fate.
// The successor starts later, in runLinks, so that finish never re-enters the loops
// that call it (a queue walk, a close drain).
func (e *emul) finish(idx int32, res int32, flags ResultFlags, buf uint16) {
	s := e.slot(idx)
	fd := e.detach(idx, s)
	s.state = stDone
	e.comp.push(completion{slot: idx, gen: s.gen, res: res, flags: flags &^ ResMore, buf: buf})
	if next := s.link; next != 0 {
		s.link = 0
		n := e.slot(next)
		n.lprev = 0
		n.linkFail = !linkOK(s.op, res)
		e.linkq = append(e.linkq, next)
	}
	if fd >= 0 {
		e.maybeClose(fd)
	}
}

// post records a ResMore completion of a multishot op that stays in flight.
func (e *emul) post(idx int32, res int32, flags ResultFlags, buf uint16) {
	e.comp.push(completion{slot: idx, gen: e.slot(idx).gen, res: res, flags: flags | ResMore, buf: buf})
}

// runLinks starts (or fails) the chain successors that finish queued. Every entry
// point (submit, cancel, each phase of wait, shutdown) calls it before returning.
func (e *emul) runLinks() {
	for i := 0; i < len(e.linkq); i++ { // finish may append while this runs
		idx := e.linkq[i]
		s := e.slot(idx)
		if s.state != stChained {
			continue
		}
		if s.linkFail {
			e.finish(idx, -int32(unix.ECANCELED), 0, 0)
		} else {
			e.start(idx)
		}
	}
	e.linkq = e.linkq[:0]
}

// linkOK reports whether a completion lets the next op of its chain run: io_uring
// fails a link on an error, and on a short read or write (a short send or recv only
// with MSG_WAITALL).
func linkOK(op *Op, res int32) bool {
	if res < 0 {
		return false
	}
	switch op.Code {
	case OpRead, OpWrite:
		return int(res) == len(op.Buf)
	case OpReadv, OpWritev:
		return int(res) == totalLen(op.Bufs)
	case OpSend, OpRecv:
		if op.Arg&MsgWaitAll != 0 {
			return int(res) == len(op.Buf)
		}
	case OpSplice:
		return int64(res) == op.Len // io_uring fails the link of a short splice too
	}
	return true
}

// detach takes a slot out of whatever list or table holds it. It returns the
// descriptor whose worker count dropped (the caller checks for a waiting close), or -1.
func (e *emul) detach(idx int32, s *slot) int {
	e.timers.remove(idx)
	switch s.state {
	case stQueued:
		e.unlink(&e.fds.at(int(s.fd)).q[s.dir], idx)
	case stPending:
		e.unlink(&e.pend, idx)
		return e.workDone(s)
	case stWorker:
		return e.workDone(s)
	}
	return -1
}

// cancel implements Driver.Cancel.
func (e *emul) cancel(op *Op) error {
	if op == nil || op.Ref == 0 {
		return ErrNotInFlight
	}
	s, idx := e.live(op.Ref)
	if s == nil || s.op != op {
		return ErrNotInFlight
	}
	e.cancelSlot(idx, s, unix.ECANCELED, true)
	e.runLinks()
	return nil
}

// cancelSlot ends op idx with -errno if it has not produced its result yet. An op in
// a worker's hands, an OpClose under way and an op whose final completion is already
// queued keep their real result.
//
// With retry, a single-shot op at the head of its descriptor queue is tried once more
// first: readiness may have arrived that no Wait has seen yet, and in io_uring such an
// op would already have completed, so its real result wins here too (C3). Bytes that
// a MSG_WAITALL send or recv already moved are reported instead of the error.
func (e *emul) cancelSlot(idx int32, s *slot, errno syscall.Errno, retry bool) {
	if s.state == stQueued && s.dir != dirPoll && s.op.Flags&FlagMultishot == 0 {
		if retry && s.prev == 0 {
			budget := 1
			if e.attempt(idx, s, &budget) == tryDone {
				return
			}
		}
		if s.done > 0 && s.op.Code != OpConnect {
			e.finish(idx, int32(s.done), 0, 0)
			return
		}
	}
	switch s.state {
	case stQueued, stTimer, stPending:
		if s.op.Code != OpClose {
			e.finish(idx, -int32(errno), 0, 0)
		}
	case stWorker:
		if s.op.Code != OpClose && e.pool.cancel(s.job) {
			e.finish(idx, -int32(errno), 0, 0)
		}
	case stChained:
		if p := s.lprev; p != 0 {
			e.slot(p).link = 0
			s.lprev = 0
		}
		e.finish(idx, -int32(errno), 0, 0)
	}
}

// fireTimers expires every deadline that has passed: an OpTimeout completes with
// ETIME, any other op is cancelled with ETIME unless its result came first.
func (e *emul) fireTimers() {
	if e.timers.len() == 0 {
		return
	}
	now := e.now()
	for {
		idx, when, ok := e.timers.peek()
		if !ok || when > now {
			return
		}
		e.timers.remove(idx)
		s := e.slot(idx)
		if s.op.Code == OpTimeout && s.state == stTimer {
			e.finish(idx, -int32(ETIME), 0, 0)
		} else {
			e.cancelSlot(idx, s, ETIME, true)
		}
	}
}

// noCopy makes go vet's copylocks check report copies of the struct that embeds it.
type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}

var slotStateNames = [...]string{stFree: "free", stChained: "chained", stQueued: "queued",
	stTimer: "timer", stPending: "pending", stWorker: "worker", stClosing: "closing", stDone: "done"}

// InFlight implements InFlightReporter: every slot that holds an op, in slot order.
func (e *emul) InFlight(dst []InFlightOp) []InFlightOp {
	for i := int32(1); i <= e.nslots; i++ {
		s := e.slot(i)
		if s.state == stFree || s.op == nil {
			continue
		}
		name := "?"
		if int(s.state) < len(slotStateNames) {
			name = slotStateNames[s.state]
		}
		dst = append(dst, InFlightOp{Slot: i, Gen: s.gen, State: name, Code: s.op.Code, Fd: s.op.Fd, Flags: s.op.Flags})
	}
	return dst
}

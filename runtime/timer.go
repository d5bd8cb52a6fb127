package runtime

import (
	"math"
	"math/bits"
	"time"
)

// processStart anchors nanotime. time.Since reads the monotonic clock, so nanotime never
// goes backwards, whatever happens to the wall clock.
var processStart = time.Now()

// nanotime returns monotonic nanoseconds since the process started: the clock in which
// timer deadlines are expressed. Safe for concurrent use; it does not allocate.
func nanotime() int64 {
	return int64(time.Since(processStart))
}

// deadlineAfter returns the nanotime deadline d from now, saturating instead of
// overflowing for huge d; a negative d gives a deadline already past.
func deadlineAfter(d time.Duration) int64 {
	now := nanotime()
	if d > 0 && int64(d) > math.MaxInt64-now {
		return math.MaxInt64
	}
	return now + int64(d)
}

// timer is a one-shot callback at a deadline, intrusive in the sense that it carries its
// own heap position: arming, stopping and re-arming a timer allocate nothing. The owner
// of the struct sets fn and arg once and reuses the timer as often as it likes.
//
// States: idle (pos == 0) ──arm/reset──▶ armed (pos > 0) ──fire or stop──▶ idle. fn is
// called with the timer idle again, so fn may re-arm its own timer (a periodic timer).
//
// A timer is used only by the loop whose timerHeap it is armed in (other goroutines arm
// through the loop's inbox); while armed, only that heap may stop or reset it. It must
// not be copied while armed. The zero value, with fn set, is an idle timer ready to use,
// so a timer can live inside a larger struct.
type timer struct {
	when int64  // deadline in nanotime; meaningful while armed
	seq  uint64 // arm order within the heap: equal deadlines fire first-armed first
	pos  int32  // 1 + index in timerHeap.items; 0 while idle

	// fn is called on the owning loop as fn(arg, now), with the now that fireDue was
	// given. Passing arg lets one func value serve many timers without a closure each.
	fn  func(arg any, now int64)
	arg any
}

// newTimer returns an idle timer that calls fn(arg, now) when it fires.
func newTimer(fn func(arg any, now int64), arg any) *timer {
	return &timer{fn: fn, arg: arg}
}

// armed reports whether t is waiting in a heap.
func (t *timer) armed() bool { return t.pos > 0 }

// timerItem is one heap entry. It copies the deadline next to the pointer so that
// sift-down compares deadlines without touching the timers themselves: four children
// are 64 contiguous bytes, about one cache line.
type timerItem struct {
	when int64
	t    *timer
}

// before orders items by deadline, then by arm order, so ties fire FIFO. Only ties
// read the timers themselves.
func (a *timerItem) before(b *timerItem) bool {
	return a.when < b.when || (a.when == b.when && a.t.seq < b.t.seq)
}

// earlier returns whichever of i and j holds the item that fires first (the same order
// as before). Which child of four is earliest is a coin flip for the branch predictor,
// and mispredictions dominated the profile of a branchy sift-down, so unequal deadlines
// select with a borrow mask; equal ones (a predictable, rarer branch) compare arm order.
func earlier(items []timerItem, i, j int) int {
	a, b := &items[i], &items[j]
	if a.when == b.when {
		if b.t.seq < a.t.seq {
			return j
		}
		return i
	}
	_, borrow := bits.Sub64(uint64(b.when)^signBit, uint64(a.when)^signBit, 0)
	return i + (j-i)&-int(borrow)
}

// signBit flips int64 order into uint64 order.
const signBit = 1 << 63

// timerHeap holds a loop's armed timers: a 4-ary min-heap ordered by (deadline, arm
// order), with each timer's index kept in the timer so stop and reset are O(log n).
//
// Why a heap and not a hierarchical timing wheel: both were built and measured on the
// 2-core dev host (timerwheel_test.go keeps the wheel; BenchmarkTimerHeapVsWheel, best
// of 5 alternating runs, n timers pending at random deadlines over 10 ms):
//
//	n          arm+fire heap / wheel     arm+stop heap / wheel
//	1,000      127-146 / 112-141 ns      18-28 / 7.6-8.0 ns
//	100,000    328-711 / 473-650 ns      12-14 / 6.7-12 ns
//	1,000,000  707-1047 / 684-949 ns     16-18 / 9.3-10 ns
//
// Arm+fire, the cost the runtime's timer targets are about, came out even up to 100,000
// pending (within ±30%, the winner changing from run to run on this shared host); at a
// million the wheel led by 3-35%, more when other processes loaded the memory system,
// as each sift step of the heap writes an index into a timer far away in memory. The
// wheel's O(1) arm+stop is about 8 ns cheaper, less than one nanotime call. A loop is
// expected to hold thousands, not millions, of timers, so the tie went to what
// the heap gives for free: exact deadline order with FIFO ties for every input (past
// deadlines included), an exact next deadline (a wheel reports a slot's start, waking
// the loop early once per level), and bounded work per fired timer (a wheel re-files a
// whole slot at once when the clock reaches it). If I/O deadlines that are armed and
// stopped without firing come to dominate, the wheel in timerwheel_test.go is where to
// start.
//
// A timerHeap is used only by the loop that owns it and must not be copied after first
// use. The zero value is an empty heap ready to use; it allocates only when it grows past
// its largest size so far.
type timerHeap struct {
	_     noCopy
	items []timerItem
	seq   uint64
}

// len returns the number of armed timers.
func (h *timerHeap) len() int { return len(h.items) }

// drain disarms every timer, calling drop for each (in no particular order) without
// firing it. A loop that stops uses it to settle what its timers stood for.
func (h *timerHeap) drain(drop func(t *timer)) {
	items := h.items
	h.items = h.items[:0]
	for i := range items {
		t := items[i].t
		items[i].t = nil
		t.pos = 0
		drop(t)
	}
}

// arm schedules t, which must be idle, to fire at when (a nanotime deadline). A
// deadline already past fires at the next fireDue. It panics if t is armed, a broken
// invariant in the caller; use reset to re-arm.
func (h *timerHeap) arm(t *timer, when int64) {
	if t.pos > 0 {
		panic("zokio/runtime: timer armed twice")
	}
	h.seq++
	t.when, t.seq = when, h.seq
	i := len(h.items)
	t.pos = int32(i + 1)
	h.items = append(h.items, timerItem{when: when, t: t})
	h.up(i)
}

// stop disarms t and reports whether it was armed; stopping an idle timer is a no-op.
func (h *timerHeap) stop(t *timer) bool {
	i := int(t.pos) - 1
	if i < 0 {
		return false
	}
	h.removeAt(i)
	return true
}

// reset (re)arms t for when and reports whether it was armed before. A reset timer
// counts as armed now: among equal deadlines it fires after those armed before it.
func (h *timerHeap) reset(t *timer, when int64) bool {
	i := int(t.pos) - 1
	if i < 0 {
		h.arm(t, when)
		return false
	}
	h.seq++
	t.when, t.seq = when, h.seq
	h.items[i].when = when
	h.fix(i)
	return true
}

// next returns the earliest deadline; ok is false when no timer is armed.
func (h *timerHeap) next() (when int64, ok bool) {
	if len(h.items) == 0 {
		return 0, false
	}
	return h.items[0].when, true
}

// fireDue fires, in deadline order (ties in arm order), up to budget timers whose
// deadline is at or before now, and returns how many it fired. Each timer is idle when
// its fn runs, and fn may arm, stop or reset any timer of this heap; a timer armed with
// a deadline at or before now fires in the same call if the budget allows. budget bounds
// one tick's work (RELIABILITY C6); budget ≤ 0 fires nothing.
func (h *timerHeap) fireDue(now int64, budget int) int {
	n := 0
	for n < budget && len(h.items) > 0 && h.items[0].when <= now {
		t := h.items[0].t
		h.removeAt(0)
		n++
		t.fn(t.arg, now)
	}
	return n
}

// removeAt takes the item at i out of the heap and marks its timer idle.
func (h *timerHeap) removeAt(i int) {
	h.items[i].t.pos = 0
	last := len(h.items) - 1
	if i != last {
		h.items[i] = h.items[last]
		h.items[i].t.pos = int32(i + 1)
	}
	h.items[last] = timerItem{} // do not keep the timer reachable from spare capacity
	h.items = h.items[:last]
	if i < last {
		h.fix(i)
	}
}

// fix restores heap order around i after its item changed.
func (h *timerHeap) fix(i int) {
	if i > 0 && h.items[i].before(&h.items[(i-1)/4]) {
		h.up(i)
	} else {
		h.down(i)
	}
}

// up moves the item at i towards the root until its parent is not after it.
func (h *timerHeap) up(i int) {
	items := h.items
	it := items[i]
	for i > 0 {
		p := (i - 1) / 4
		if !it.before(&items[p]) {
			break
		}
		items[i] = items[p]
		items[i].t.pos = int32(i + 1)
		i = p
	}
	items[i] = it
	it.t.pos = int32(i + 1)
}

// down moves the item at i towards the leaves until no child is before it.
func (h *timerHeap) down(i int) {
	items := h.items
	n := len(items)
	it := items[i]
	for {
		c := 4*i + 1
		if c >= n {
			break
		}
		// Find the earliest of up to four children, as a tournament when all four
		// exist: the two first-round picks do not depend on each other.
		var m int
		if c+3 < n {
			m = earlier(items, earlier(items, c, c+1), earlier(items, c+2, c+3))
		} else {
			m = c
			for j := c + 1; j < n; j++ {
				m = earlier(items, m, j)
			}
		}
		if !items[m].before(&it) {
			break
		}
		items[i] = items[m]
		items[i].t.pos = int32(i + 1)
		i = m
	}
	items[i] = it
	it.t.pos = int32(i + 1)
}

package runtime

import "sync/atomic"

// runqMask maps a free-running ring index to a slot.
const runqMask = runqSize - 1

// runqSize must be a power of two for runqMask to work: this fails to compile otherwise.
var _ = [1]struct{}{}[runqSize&(runqSize-1)]

// runq is a loop's queue of stealable tasks, built like the Go scheduler's per-P runq: a
// fixed ring of runqSize slots that only the owner pushes to, and that the owner pops
// from while other loops steal half of it at a time. Behind the ring sits an owner-only
// overflow deque.
//
// Order. The queue is one FIFO from the owner's point of view: overflow holds the oldest
// tasks, the ring the newest. pop takes the overflow first, so the ring (the part other
// loops can see) stays full of stealable work while the owner runs the rest. When a push
// finds the ring full, the owner moves the older half of the ring to the back of the
// overflow with one CAS (Go's runqputslow moves it to the global queue instead; a loop
// has no global queue, and keeping the half local keeps its cache). push therefore never
// fails. Stealers take the oldest half of the ring.
//
// Indices. head and tail are free-running uint32 counters; slot i lives at slots[i&mask].
// The ring holds tail-head tasks, never more than runqSize. Only the owner writes tail;
// head is advanced by the owner (pop, overflow) and by stealers, always with CAS, so
// each slot is claimed by exactly one consumer. A consumer reads a slot before its CAS;
// if the CAS fails, the slot may since have been reused and the read is discarded.
//
// Go's atomics are sequentially consistent; the comments on each access name the weaker
// ordering it relies on and the access it pairs with, as Go's runqput does.
//
// Slots are atomic.Pointer so that those speculative reads, which race with the owner's
// later reuse of the slot, are atomic accesses and the race detector stays quiet; on
// amd64 and arm64 an atomic pointer load is an ordinary load.
//
// Concurrency: push, pop and len are used only by the loop that owns the queue.
// stealHalf is called on a victim queue by the loop that owns dst, concurrently with the
// victim's owner and other stealers; stealable may be called by any goroutine. A runq
// must not be copied after first use (its atomics make go vet report copies). The zero
// value is an empty queue ready to use.
type runq struct {
	// head is the index of the oldest task in the ring. Loaded with load-acquire (pairs
	// with other consumers' CAS, so slots below head are known to be consumed) and
	// advanced only by CAS: claims slots from the owner and other stealers, and (release)
	// hands those slots back to the owner for reuse.
	head atomic.Uint32

	// tail is one past the newest task in the ring. Only the owner writes it.
	// Store-release: publishes the slots below it to stealers, whose load-acquire of
	// tail pairs with it.
	tail atomic.Uint32

	slots [runqSize]atomic.Pointer[task]

	// overflow holds the oldest tasks when the ring filled up. Owner-only: never stolen.
	overflow taskDeque
	// inject, when set, takes the spilled half instead of overflow: a queue every loop
	// can take from, so that a loop stuck in a long task strands nothing (Go's runtime
	// spills to its global run queue for the same reason). Set before first use.
	inject *injectQueue
}

// push appends t as the newest task. Used only by the owner. It never fails: when the
// ring is full, half of it moves to the overflow deque first.
func (q *runq) push(t *task) {
	for {
		h := q.head.Load() // load-acquire: slots below h are consumed and free to reuse
		tl := q.tail.Load()
		if tl-h < runqSize {
			q.slots[tl&runqMask].Store(t)
			q.tail.Store(tl + 1) // store-release: publishes the slot to stealers
			return
		}
		// Full: move the older half to the overflow. If a stealer's CAS beat ours, the
		// ring has room now. Either way, try again.
		q.spill(h)
	}
}

// spill moves the older half of a full ring (which starts at index h) to the back of
// the overflow deque. It does nothing when a stealer advanced head first: then the ring
// is no longer full.
func (q *runq) spill(h uint32) {
	const n = runqSize / 2
	// CAS: claims the n oldest slots from stealers, exactly as a steal would.
	if !q.head.CompareAndSwap(h, h+n) {
		return
	}
	// The slots are ours now: stealers start at head, and only the owner writes slots.
	if q.inject != nil {
		var batch [runqSize / 2]*task
		for i := range uint32(n) {
			batch[i] = q.slots[(h+i)&runqMask].Load()
		}
		q.inject.put(batch[:])
		return
	}
	for i := range uint32(n) {
		q.overflow.pushBack(q.slots[(h+i)&runqMask].Load())
	}
}

// pop removes and returns the oldest task, or nil when the queue is empty. Used only by
// the owner.
func (q *runq) pop() *task {
	if t := q.overflow.popFront(); t != nil {
		return t
	}
	for {
		h := q.head.Load() // load-acquire: pairs with stealers' CAS on head
		if q.tail.Load() == h {
			return nil
		}
		t := q.slots[h&runqMask].Load()
		// CAS: claims the slot from stealers; if one got there first, t was theirs.
		if q.head.CompareAndSwap(h, h+1) {
			return t
		}
	}
}

// len returns the number of tasks in the queue, overflow included. Used only by the
// owner; stealers may shrink the result at any moment.
func (q *runq) len() int {
	return q.overflow.len() + int(q.tail.Load()-q.head.Load())
}

// stealable returns about how many tasks a steal could take from q now. Any goroutine
// may call it; the answer is a snapshot that may be stale by the time it is used, which
// is fine for choosing a victim.
func (q *runq) stealable() int {
	for {
		h := q.head.Load()
		t := q.tail.Load()
		if n := t - h; n <= runqSize {
			return int(n)
		}
		// h was loaded, then the owner and others raced far ahead before tail was
		// loaded: the pair is inconsistent. Try again.
	}
}

// stealHalf moves the older half (rounded up) of q's ring into dst's ring and returns
// how many tasks moved. It is called by the loop that owns dst, on another loop's q,
// concurrently with q's owner and other stealers. It takes no more than dst's ring has
// room for, and never touches q's overflow, which is owner-only.
//
// Memory model: the stolen tasks' contents, written by q's owner before its push
// (store-release of tail), are visible to dst's owner after the load-acquire of tail
// below; the CAS on q.head makes the thief their only consumer.
func (q *runq) stealHalf(dst *runq) int {
	if q == dst {
		return 0
	}
	dt := dst.tail.Load()                     // dst's owner is the caller: its own write
	room := runqSize - (dt - dst.head.Load()) // stealers of dst can only grow the room
	for {
		h := q.head.Load() // load-acquire: pairs with other consumers' CAS
		t := q.tail.Load() // load-acquire: pairs with the owner's store-release of tail
		n := t - h
		n -= n / 2
		if n > runqSize/2 {
			continue // inconsistent h and t (see stealable): reload
		}
		n = min(n, room)
		if n == 0 {
			return 0
		}
		for i := range n {
			// dst's slots at and past dt are invisible to dst's stealers until the
			// tail store below, so writing them before the CAS is safe.
			dst.slots[(dt+i)&runqMask].Store(q.slots[(h+i)&runqMask].Load())
		}
		// CAS: claims slots [h, h+n) from q's owner and other stealers. On failure the
		// copies above may be stale; they are overwritten on the next attempt.
		if q.head.CompareAndSwap(h, h+n) {
			dst.tail.Store(dt + n) // store-release: publishes the stolen tasks in dst
			return int(n)
		}
	}
}

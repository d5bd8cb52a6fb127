package runtime

import (
	"slices"
	"sync"
)

// Reference models (STYLE rule 11): the simplest code that has the same observable
// behaviour as each lock-free or owner-only structure, a mutex and slices. The
// differential fuzz tests run one op sequence against both and require identical results.
// Values are small integers standing for tasks and timers.

// refRunq models runq: the ring as a slice of at most runqSize values, the overflow as
// another slice. It follows runq's documented policy: pop takes the overflow first; a
// push into a full ring first moves the ring's older half to the back of the overflow;
// a steal takes the older half (rounded up) of the ring, limited by the thief's room.
type refRunq struct {
	mu       sync.Mutex
	order    int // lock order among models: lower first
	ring     []int
	overflow []int
}

func (q *refRunq) push(v int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.ring) == runqSize {
		q.overflow = append(q.overflow, q.ring[:runqSize/2]...)
		q.ring = slices.Clone(q.ring[runqSize/2:])
	}
	q.ring = append(q.ring, v)
}

func (q *refRunq) pop() (int, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.overflow) > 0 {
		v := q.overflow[0]
		q.overflow = q.overflow[1:]
		return v, true
	}
	if len(q.ring) > 0 {
		v := q.ring[0]
		q.ring = q.ring[1:]
		return v, true
	}
	return 0, false
}

func (q *refRunq) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.ring) + len(q.overflow)
}

func (q *refRunq) stealable() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.ring)
}

// stealHalf locks both queues in their fixed order, as any two-mutex model must.
func (q *refRunq) stealHalf(dst *refRunq) int {
	if q == dst {
		return 0
	}
	first, second := q, dst
	if dst.order < q.order {
		first, second = dst, q
	}
	first.mu.Lock()
	defer first.mu.Unlock()
	second.mu.Lock()
	defer second.mu.Unlock()
	n := len(q.ring) - len(q.ring)/2
	n = min(n, runqSize-len(dst.ring))
	dst.ring = append(dst.ring, q.ring[:n]...)
	q.ring = q.ring[n:]
	return n
}

// refInbox models inbox, including a post split in two (the swap, then the link) so
// that a test can leave a post half-done and check what the owner sees meanwhile.
// items is in swap order; linked[i] says whether item i's producer has stored the link
// that makes it reachable.
type refInbox struct {
	mu       sync.Mutex
	items    []int
	linked   []bool
	sleeping bool
	wakes    int
}

// begin is the producer's swap: the item takes its place but is not reachable yet.
func (q *refInbox) begin(v int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.items = append(q.items, v)
	q.linked = append(q.linked, false)
}

// finish is the producer's link store of item v, then its check of the sleep flag.
func (q *refInbox) finish(v int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.linked[slices.Index(q.items, v)] = true
	if q.sleeping {
		q.sleeping = false
		q.wakes++
	}
}

// readyLocked reports whether the owner can pop: the oldest item is linked, and so is
// the one after it if any (the queue's tail cannot advance past a missing link).
func (q *refInbox) readyLocked() bool {
	return len(q.items) > 0 && q.linked[0] && (len(q.items) == 1 || q.linked[1])
}

func (q *refInbox) ready() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.readyLocked()
}

func (q *refInbox) pop() (int, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.readyLocked() {
		return 0, false
	}
	v := q.items[0]
	q.items, q.linked = q.items[1:], q.linked[1:]
	return v, true
}

func (q *refInbox) prepareSleep() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.sleeping = true
	if q.readyLocked() {
		q.sleeping = false
		return false
	}
	return true
}

func (q *refInbox) awake() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.sleeping = false
}

// refTimers models timerHeap: a slice of armed timers, searched linearly for the
// earliest (deadline, arm order).
type refTimers struct {
	mu    sync.Mutex
	armed []refTimer
	seq   uint64
}

type refTimer struct {
	id   int
	when int64
	seq  uint64
}

func (r *refTimers) indexLocked(id int) int {
	return slices.IndexFunc(r.armed, func(t refTimer) bool { return t.id == id })
}

// arm arms id, which the caller knows to be idle, or re-arms it (reset); it reports
// whether id was armed.
func (r *refTimers) arm(id int, when int64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	was := false
	if i := r.indexLocked(id); i >= 0 {
		r.armed = slices.Delete(r.armed, i, i+1)
		was = true
	}
	r.seq++
	r.armed = append(r.armed, refTimer{id: id, when: when, seq: r.seq})
	return was
}

func (r *refTimers) stop(id int) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if i := r.indexLocked(id); i >= 0 {
		r.armed = slices.Delete(r.armed, i, i+1)
		return true
	}
	return false
}

func (r *refTimers) isArmed(id int) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.indexLocked(id) >= 0
}

func (r *refTimers) earliestLocked() int {
	best := -1
	for i, t := range r.armed {
		if best < 0 || t.when < r.armed[best].when ||
			(t.when == r.armed[best].when && t.seq < r.armed[best].seq) {
			best = i
		}
	}
	return best
}

func (r *refTimers) next() (int64, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if i := r.earliestLocked(); i >= 0 {
		return r.armed[i].when, true
	}
	return 0, false
}

// popDue removes and returns the earliest timer due at now, if any. The caller runs
// the timer's model callback between calls, without the lock held, as fireDue does.
func (r *refTimers) popDue(now int64) (int, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	i := r.earliestLocked()
	if i < 0 || r.armed[i].when > now {
		return 0, false
	}
	id := r.armed[i].id
	r.armed = slices.Delete(r.armed, i, i+1)
	return id, true
}

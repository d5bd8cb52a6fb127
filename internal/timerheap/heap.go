// Package timerheap holds the timer heap that Zokio's drivers share: the readiness core
// in package poller (epoll, kqueue) and the IOCP driver arm their op timers in it.
package timerheap

// Heap is a 4-ary min-heap of deadlines, keyed by a small integer id (drivers use
// their slot indices). Each id's position is kept in pos, so Remove is O(log n) and
// Contains is O(1). Equal deadlines fire in the order they were armed (seq breaks ties).
// Once items and pos have grown to the working set, Push and Remove allocate nothing.
//
// A 4-ary heap halves the depth of a binary one; sift-down compares four children that
// sit in one or two cache lines, the layout Go's runtime timer heap uses for the same
// reason.
//
// A Heap is used only by the loop that owns it.
type Heap struct {
	items []timerItem
	pos   []int32 // pos[id] is id's index in items, or -1 when id is not armed
	seq   uint64
}

type timerItem struct {
	when int64 // deadline, in the owner's clock (nanoseconds)
	seq  uint64
	id   int32
}

func (a *timerItem) before(b *timerItem) bool {
	return a.when < b.when || (a.when == b.when && a.seq < b.seq)
}

// Len returns the number of armed timers.
func (h *Heap) Len() int { return len(h.items) }

// Contains reports whether id is armed.
func (h *Heap) Contains(id int32) bool {
	return int(id) < len(h.pos) && h.pos[id] >= 0
}

// Push arms id for deadline when; id must not be armed already.
func (h *Heap) Push(id int32, when int64) {
	for int(id) >= len(h.pos) {
		h.pos = append(h.pos, -1)
	}
	h.seq++
	i := len(h.items)
	h.items = append(h.items, timerItem{when: when, seq: h.seq, id: id})
	h.pos[id] = int32(i)
	h.up(i)
}

// Peek returns the earliest deadline and its id; ok is false when the heap is empty.
func (h *Heap) Peek() (id int32, when int64, ok bool) {
	if len(h.items) == 0 {
		return 0, 0, false
	}
	return h.items[0].id, h.items[0].when, true
}

// Remove disarms id and reports whether it was armed.
func (h *Heap) Remove(id int32) bool {
	if !h.Contains(id) {
		return false
	}
	i := int(h.pos[id])
	h.pos[id] = -1
	last := len(h.items) - 1
	if i != last {
		h.items[i] = h.items[last]
		h.pos[h.items[i].id] = int32(i)
	}
	h.items = h.items[:last]
	if i != last {
		h.fix(i)
	}
	return true
}

// fix restores the heap order around index i after its item changed.
func (h *Heap) fix(i int) {
	if i > 0 && h.items[i].before(&h.items[(i-1)/4]) {
		h.up(i)
	} else {
		h.down(i)
	}
}

func (h *Heap) up(i int) {
	it := h.items[i]
	for i > 0 {
		p := (i - 1) / 4
		if !it.before(&h.items[p]) {
			break
		}
		h.items[i] = h.items[p]
		h.pos[h.items[i].id] = int32(i)
		i = p
	}
	h.items[i] = it
	h.pos[it.id] = int32(i)
}

func (h *Heap) down(i int) {
	n := len(h.items)
	it := h.items[i]
	for {
		c := 4*i + 1
		if c >= n {
			break
		}
		best := c
		for k := c + 1; k < c+4 && k < n; k++ {
			if h.items[k].before(&h.items[best]) {
				best = k
			}
		}
		if !h.items[best].before(&it) {
			break
		}
		h.items[i] = h.items[best]
		h.pos[h.items[i].id] = int32(i)
		i = best
	}
	h.items[i] = it
	h.pos[it.id] = int32(i)
}

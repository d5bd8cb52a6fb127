package runtime

import (
	"sync"
	"sync/atomic"
)

// injectQueue is the runtime-wide queue of stealable tasks that overflowed a loop's run
// queue ring. Any loop takes from it when it has nothing of its own to run, before it
// steals and before it sleeps. It is rarely touched (only when a ring of 256 tasks
// fills), so a mutex is the simple right choice; n lets idle loops skip it without the
// lock.
//
// Safe for concurrent use by multiple goroutines.
type injectQueue struct {
	mu sync.Mutex
	q  taskDeque
	n  atomic.Int64 // len(q), readable without mu
}

// put appends tasks, oldest first.
func (iq *injectQueue) put(ts []*task) {
	iq.mu.Lock()
	for _, t := range ts {
		iq.q.pushBack(t)
	}
	iq.n.Store(int64(iq.q.len()))
	iq.mu.Unlock()
}

// take moves up to max tasks into dst and returns how many moved.
func (iq *injectQueue) take(dst *runq, max int) int {
	if iq.n.Load() == 0 {
		return 0
	}
	iq.mu.Lock()
	defer iq.mu.Unlock()
	n := 0
	for n < max {
		t := iq.q.popFront()
		if t == nil {
			break
		}
		dst.push(t)
		n++
	}
	iq.n.Store(int64(iq.q.len()))
	return n
}

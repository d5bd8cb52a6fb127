package runtime

import "sync/atomic"

// This file holds the unit of scheduled work (task), the owner-only free list that lets a
// loop spawn without allocating, and the owner-only FIFO (taskDeque) that holds pinned
// tasks and the overflow of the stealable ring.
//
// Task states. Every task is in exactly one of these and moves only along the arrows:
//
//	free ──get──▶ queued ──popped by a loop──▶ running ──recycled by run──▶ free
//	              ▲
//	   newTask ───┘ (another goroutine allocates a task, queued, to post it)
//
//   - free: in some loop's taskFreeList; fn is nil.
//   - queued: in exactly one of a runq, a taskDeque or an inbox; fn is set. Ownership moves
//     with the queue: a stolen task belongs to the thief's loop from then on.
//   - running: popped by a loop that is about to call fn. taskFreeList.run recycles the
//     task before calling fn, so fn's own spawns can reuse it at once (hot in cache).
//
// A task never sits in two queues, and a queued task is touched only through the queue
// that holds it; the queues' atomics carry the happens-before edges between loops.

// taskState is a task's position in the lifecycle above. It is a plain field: the loop
// that holds the task is the only one that reads or writes it, and every handoff between
// loops goes through an atomic (runq slot, inbox link) that orders the accesses.
type taskState uint8

const (
	taskFree    taskState = iota // in a free list; fn is nil
	taskQueued                   // in one queue, waiting to run
	taskRunning                  // taken off a queue; fn about to be called
)

// task is one unit of scheduled work: a function to call on some loop.
//
// A task is handed from goroutine to goroutine only through the queues in this package
// (runq, taskDeque, inbox); whoever holds it in between owns it exclusively. Tasks are
// reused through taskFreeList and must not be copied after first use.
type task struct {
	// fn is the work. Set while queued, nil while free so that a recycled task does
	// not keep the closure (and what it captures) alive.
	fn func()

	// next links the task into an inbox (mpscQueue). It is atomic because a producer on
	// another goroutine stores it (store-release, publishing the task) while the owner
	// loads it (load-acquire) in pop; see inbox.go.
	next atomic.Pointer[task]

	// link chains the task in its owner's free list. Plain: only the owner touches it.
	link *task

	state taskState

	// stealable marks a task other loops may steal (Spawn); the rest stay on the loop
	// they were posted to (Post, completions). Set by whoever queues the task.
	stealable bool
	// external marks a task embedded in a longer-lived struct (a pooled waiter): the
	// loop runs it but never recycles it into a free list.
	external bool
}

// newTask returns a fresh task for fn in state queued. Goroutines that are not the owning
// loop use it to build tasks they post to an inbox: a loop's free list is theirs only to
// read from when they are that loop. It allocates; the loop that runs the task recycles
// it into its own free list, so a steady stream of posts is bounded by freeListMax.
func newTask(fn func()) *task {
	return &task{fn: fn, state: taskQueued}
}

// taskFreeList is a loop's cache of free tasks, a LIFO stack linked through task.link. It
// holds at most freeListMax tasks; beyond that, recycled tasks are dropped for the GC.
//
// A taskFreeList is used only by the loop that owns it (no atomics) and must not be
// copied after first use. The zero value is an empty list ready to use.
type taskFreeList struct {
	_    noCopy
	head *task
	n    int
}

// get returns a task for fn in state queued, reusing a free one when there is one. In
// steady state (every task run on this loop is recycled into this list) it allocates
// nothing.
func (l *taskFreeList) get(fn func()) *task {
	t := l.head
	if t == nil {
		return newTask(fn)
	}
	l.head = t.link
	l.n--
	t.link = nil
	t.fn = fn
	t.state = taskQueued
	return t
}

// put recycles t, which must be a task this loop has taken off a queue (state queued or
// running). It panics if t is already free: a double recycle would let two queues own
// one task, an internal invariant this package never breaks.
func (l *taskFreeList) put(t *task) {
	if t.state == taskFree {
		panic("zokio/runtime: task recycled twice")
	}
	t.fn = nil
	t.state = taskFree
	t.stealable = false
	if t.external {
		return // its owner keeps it
	}
	if l.n >= freeListMax {
		return // let the GC have it: bounds what a burst of posts leaves behind
	}
	t.link = l.head
	l.head = t
	l.n++
}

// run calls t's function on the owning loop and recycles t into this list. The task is
// free again before fn is called, so a spawn from inside fn reuses the same task while it
// is still in cache; if fn panics, the task has already been recycled and nothing leaks.
func (l *taskFreeList) run(t *task) {
	fn := t.fn
	t.state = taskRunning
	l.put(t)
	fn()
}

// len returns the number of free tasks in the list.
func (l *taskFreeList) len() int { return l.n }

// taskDeque is an owner-only FIFO of tasks: a ring buffer whose capacity is a power of
// two and doubles when full. A loop keeps its pinned tasks (SpawnOn, I/O completions) in
// one, which nothing ever steals, and a runq keeps its overflow in another.
//
// A taskDeque is used only by the loop that owns it and must not be copied after first
// use. The zero value is an empty deque ready to use; it allocates only when it grows,
// and never shrinks, so a loop's steady state allocates nothing.
type taskDeque struct {
	_    noCopy
	buf  []*task // len(buf) is zero or a power of two
	head int     // index in buf of the oldest task
	n    int     // number of tasks
}

// pushBack appends t as the newest task.
func (d *taskDeque) pushBack(t *task) {
	if d.n == len(d.buf) {
		d.grow()
	}
	d.buf[(d.head+d.n)&(len(d.buf)-1)] = t
	d.n++
}

// popFront removes and returns the oldest task, or nil when the deque is empty.
func (d *taskDeque) popFront() *task {
	if d.n == 0 {
		return nil
	}
	t := d.buf[d.head]
	d.buf[d.head] = nil // the deque must not keep a task alive after handing it out
	d.head = (d.head + 1) & (len(d.buf) - 1)
	d.n--
	return t
}

// len returns the number of tasks in the deque.
func (d *taskDeque) len() int { return d.n }

// grow doubles the ring (dequeMinCap the first time), unwrapping it so the oldest task
// lands at index 0.
func (d *taskDeque) grow() {
	c := 2 * len(d.buf)
	if c < dequeMinCap {
		c = dequeMinCap
	}
	buf := make([]*task, c)
	if d.n > 0 {
		k := copy(buf, d.buf[d.head:])
		copy(buf[k:], d.buf[:d.head])
	}
	d.buf = buf
	d.head = 0
}

// noCopy, embedded in a struct, makes go vet's copylocks check report copies of that
// struct, as sync.noCopy does. Lock and Unlock exist only for that check.
type noCopy struct{}

// Lock is a no-op used by go vet's copylocks check.
func (*noCopy) Lock() {}

// Unlock is a no-op used by go vet's copylocks check.
func (*noCopy) Unlock() {}

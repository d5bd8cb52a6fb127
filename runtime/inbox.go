package runtime

import (
	"sync/atomic"

	"golang.org/x/sys/cpu"
)

// inbox is how other goroutines reach a loop: a lock-free multi-producer, single-consumer
// queue of tasks, plus the sleep/wake handshake that lets the owning loop block in the
// kernel without ever missing a post.
//
// The queue is Dmitry Vyukov's intrusive MPSC queue: tasks are linked through task.next,
// and a stub task keeps the list non-empty. A post is one atomic swap and two stores
// (clear the task's link, then link it in), wait free for producers; pop is used by the
// owner only and never allocates.
//
// # Sleep and wake
//
// The owner, when it has nothing to do, calls prepareSleep. If it returns true the owner
// blocks (in the driver's Wait) until woken or until its next timer is due, then calls
// awake. Producers call post, which pushes the task and then, if the owner announced
// sleep, wakes it. The two sides are Dekker's handshake on two words, all seq-cst:
//
//	owner (prepareSleep)             producer (post)
//	S1  sleeping.Store(true)         P1  link the task (swap head, store prev.next)
//	L1  load the link it would pop   L2  sleeping.Load(); if true: CAS it false, wake
//
// Go's sync/atomic operations are sequentially consistent: there is one total order of
// them all that agrees with each goroutine's program order, and each load returns the
// last store before it in that order. Take a task the owner's check L1 did not see. The
// link that makes it reachable is stored (in P1) by the producer that swapped it in, and
// that store comes after L1 in the total order, since L1 read the nil before it. That
// producer's L2 comes later still, so after S1: it reads true, or false from a producer
// that won the CAS and so is calling wake, or false from the owner's awake, which runs
// only after the owner's block has returned. In every case the owner is woken or already
// awake, and a wakeup cannot be lost. Wake itself must be level-triggered (a wake sent
// before the owner blocks makes the block return at once), as poller.Driver.Wake is.
//
// The check L1 deliberately looks at links, not at the head pointer: a producer that has
// swapped head but not yet stored its link leaves a "half-pushed" queue: pop cannot get
// past the missing link and returns nil, even if later posts are complete behind it. The owner may then sleep without spinning, because that very producer's L2
// comes after its link store, hence after S1, and it will wake the owner.
//
// Memory model: a post that returns nil happens before the task runs. The producer writes
// the task, then stores the link (store-release); the owner's load of that link
// (load-acquire) precedes running it. A post whose wake failed has still queued the task;
// it runs whenever the owner next drains the inbox.
//
// Concurrency: post is safe for concurrent use by multiple goroutines. init, pop, drain,
// prepareSleep and awake are used only by the loop that owns the inbox. An inbox must not
// be copied after first use (it points into itself) and must be initialized with init
// before any other use.
type inbox struct {
	// head is the most recently pushed task. Producers swap it: the swap serializes
	// them and, being seq-cst, orders the push before the producer's load of sleeping.
	head atomic.Pointer[task]

	// sleeping is set by the owner when it may block, and cleared by the producer that
	// wakes it (CAS true→false, so concurrent producers send one wake) or by the owner
	// when it is awake again. Read by every post; written rarely.
	sleeping atomic.Bool

	// wake makes the owner's blocking wait return (the driver's Wake); safe for
	// concurrent use and level-triggered. Set once by init.
	wake func() error

	// Producers write head on every post; the owner's fields below stay on their own
	// cache line so that posts do not invalidate them.
	_ cpu.CacheLinePad

	// tail is the owner's read position: the oldest task not yet popped, or the stub.
	tail *task

	// stub keeps the list non-empty so producers never touch tail. It is pushed again
	// when the owner pops the last real task.
	stub task
}

// init prepares an empty inbox whose post calls wake when the owner sleeps. The owner
// calls it once, before the inbox is shared with any other goroutine.
func (q *inbox) init(wake func() error) {
	q.wake = wake
	q.stub.next.Store(nil)
	q.tail = &q.stub
	q.head.Store(&q.stub)
}

// post queues t for the owner and wakes the owner if it announced sleep. t must be
// queued (state taskQueued) and not in any other queue; it belongs to the owner from now
// on. Safe for concurrent use by multiple goroutines. The error is wake's: the task is
// queued even then. A post that returns nil happens before the task runs.
func (q *inbox) post(t *task) error {
	q.push(t)
	// Seq-cst load, ordered after the push's swap and link store: see the type's doc.
	if q.sleeping.Load() && q.sleeping.CompareAndSwap(true, false) {
		return q.wake()
	}
	return nil
}

// push links t at the head: wait free, and safe for concurrent use (the owner also
// uses it to re-insert the stub).
func (q *inbox) push(t *task) {
	t.next.Store(nil)
	// Swap: takes the head slot against other producers; seq-cst.
	prev := q.head.Swap(t)
	// Between the swap and this store the queue is half-pushed: the owner cannot reach
	// t (or anything pushed after it) until prev.next is set.
	prev.next.Store(t) // store-release: publishes t (and its contents) to the owner
}

// pop removes and returns the oldest task, or nil when no task is reachable: the inbox
// is empty or half-pushed (a producer is between its swap and its link store). Used only
// by the owner.
func (q *inbox) pop() *task {
	tail := q.tail
	next := tail.next.Load() // load-acquire: pairs with push's link store
	if tail == &q.stub {
		if next == nil {
			return nil
		}
		// Skip the stub.
		q.tail = next
		tail = next
		next = next.next.Load()
	}
	if next != nil {
		q.tail = next
		return tail
	}
	if tail != q.head.Load() {
		return nil // half-pushed: tail's successor is being linked; its producer wakes us
	}
	// tail is the last task: push the stub behind it, so that tail can be detached
	// while producers keep a node to link to.
	q.push(&q.stub)
	if next = tail.next.Load(); next != nil {
		q.tail = next
		return tail
	}
	return nil // a producer slipped in before the stub and is half-pushed
}

// drain moves up to max tasks from the inbox to the back of dst, oldest first, and
// returns how many it moved. Used only by the owner; bounding max keeps one tick's work
// bounded (RELIABILITY C6) however fast other goroutines post.
func (q *inbox) drain(dst *taskDeque, max int) int {
	n := 0
	for n < max {
		t := q.pop()
		if t == nil {
			break
		}
		dst.pushBack(t)
		n++
	}
	return n
}

// ready reports whether pop would return a task now. This is the check L1 in the type's
// doc: it reads links, so a half-pushed task counts as not ready.
func (q *inbox) ready() bool {
	tail := q.tail
	next := tail.next.Load() // load-acquire, seq-cst: L1
	if tail == &q.stub {
		if next == nil {
			return false
		}
		tail = next
		next = next.next.Load()
	}
	return next != nil || tail == q.head.Load()
}

// prepareSleep announces that the owner is about to block and reports whether it may.
// It returns false, with the announcement withdrawn, when a task is ready: the owner
// should run it instead. After true, the owner blocks until woken (or its own timeout)
// and must then call awake. Used only by the owner.
func (q *inbox) prepareSleep() (mayBlock bool) {
	q.sleeping.Store(true) // seq-cst: S1, ordered before the check below
	if q.ready() {
		// Withdraw. A producer may have seen true and be calling wake anyway; the
		// owner's next block then returns at once, a harmless spurious wakeup.
		q.sleeping.Store(false)
		return false
	}
	return true
}

// awake withdraws the sleep announcement after the owner's block returned, whatever
// the reason (wake, timer, I/O), so that later posts skip the wake. Used only by the
// owner.
func (q *inbox) awake() {
	q.sleeping.Store(false)
}

package runtime

import (
	goruntime "runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zokio/zokio/numa"
	"github.com/zokio/zokio/poller"
	"github.com/zokio/zokio/runtime/driver"
)

// Loop is one event loop: a goroutine locked to an OS thread (pinned to a CPU where
// allowed; neither with Options.UnlockedLoops) that owns one I/O driver, a run queue,
// an inbox for other goroutines and a timer heap. Everything a loop runs — tasks,
// timer callbacks, op completions — runs on that goroutine, one at a time.
//
// Methods documented "on the loop" may be called only from code the loop is running
// (a task, a timer or completion callback); the others are safe for concurrent use by
// multiple goroutines.
type Loop struct {
	rt       *Runtime
	id       int
	cpu      int    // pinned CPU, or -1
	tid      int    // the loop's OS thread, where the platform names threads (locked loops)
	goid     uint64 // the loop's goroutine (unlocked loops, which no thread names)
	place    numa.Placement
	d        poller.Driver
	decision driver.Decision
	closeErr error
	// stopHooks run on the loop when it stops, before its driver closes (OnStop).
	stopHooks []hook
	nextHook  uint64
	// waitHooks run on the loop every turn, just before it waits (BeforeWait).
	waitHooks []hook
	// bufs is the registered buffer table that arenas share (arena.go).
	bufs bufTable

	// Owner-only state.
	local     runq         // stealable tasks; other loops steal from its ring
	pinned    taskDeque    // tasks that stay on this loop
	free      taskFreeList // recycled tasks
	timers    timerHeap
	seed      uint32
	lastYield int64 // nanotime of the last pass through Go's scheduler
	lastReap  int64 // nanotime when the last driver Wait returned
	readied   bool  // code on the loop made a goroutine runnable this tick (NoteWake)
	stop      bool  // Close asked the loop to stop
	running   bool  // the loop is inside run's main loop
	count     counters

	// inbox receives tasks from other goroutines; mu orders posts against the loop's
	// exit so that no post is accepted after the final drain (readers: posts; writer:
	// the exiting loop).
	inbox  inbox
	mu     sync.RWMutex
	exited bool

	stats loopStats // published counters, readable by anyone
}

func newLoop(rt *Runtime, id, cpu int, place numa.Placement) *Loop {
	l := &Loop{rt: rt, id: id, cpu: cpu, place: place, seed: uint32(id)*2654435761 + 1}
	l.local.inject = &rt.inject
	return l
}

// ID returns the loop's index in Runtime.Loops.
func (l *Loop) ID() int { return l.id }

// CPU returns the CPU the loop is pinned to, or -1.
func (l *Loop) CPU() int { return l.cpu }

// Runtime returns the runtime the loop belongs to.
func (l *Loop) Runtime() *Runtime { return l.rt }

// Driver returns the loop's driver. Use it only on the loop.
func (l *Loop) Driver() poller.Driver { return l.d }

// run is the loop's goroutine: set up on a locked thread, tick until stopped, tear
// down. It never unlocks the thread: when it returns, Go ends the thread, so a thread
// whose CPU mask we changed is never reused for other goroutines. An unlocked loop
// (Options.UnlockedLoops) locks nothing and pins nothing.
func (l *Loop) run(ready chan<- error) {
	defer l.rt.stopped.Done()
	if l.rt.opts.UnlockedLoops {
		l.goid = curGoroutine()
	} else {
		goruntime.LockOSThread()
		l.tid = gettid()
	}
	if l.cpu >= 0 {
		if err := numa.PinThread(l.cpu); err != nil {
			l.cpu = -1 // not allowed here (a container's cpuset, say): run unpinned
		}
	}
	d, dec, err := l.openDriver()
	if err != nil {
		l.markExited()
		ready <- err
		return
	}
	l.d, l.decision = d, dec
	l.inbox.init(d.Wake)
	ready <- nil
	l.running = true
	for !l.stop || l.hasAnyTasks() {
		l.tick()
	}
	l.shutdown()
}

// tick is one turn of the loop: move posted tasks in, run a budget of tasks and due
// timers, then hand submissions to the kernel and deliver completions, blocking when
// there is nothing else to do until the next timer or a wakeup.
func (l *Loop) tick() {
	budget := l.rt.opts.TickBudget
	l.maybeYield()
	l.drainInbox(budget)
	ran := l.runTasks(budget)
	now := nanotime()
	if when, ok := l.timers.next(); ok && when <= now && when > l.lastReap {
		// A timer fell due since the last reap: the loop was busy or stalled past its
		// deadline. Completions that arrived meanwhile may have come first; deliver
		// them before the timer fires, as the events happened (a read that completed
		// before its deadline must not see the deadline timer first).
		l.reap(0)
	}
	fired := l.timers.fireDue(now, budget)
	l.count.timersFired += uint64(fired)
	for _, h := range l.waitHooks {
		h.fn()
	}
	now = nanotime() // tasks and timers took time; a stale now would mean a needless wait
	timeout := l.nextTimeout(now)
	if timeout != 0 && l.steal() > 0 {
		timeout = 0
	}
	if timeout != 0 && l.stop {
		timeout = 0
	}
	if timeout != 0 && l.rt.opts.SpinBeforePark > 0 {
		switch l.spin(now, timeout) {
		case spunTask:
			// Posted work and no I/O ready: run it now. The next tick's Wait(0)
			// still reaps, so I/O waits at most one task budget.
			l.count.ticks++
			l.count.tasksRun += uint64(ran)
			l.publish()
			return
		case spunIO:
			timeout = 0
		}
	}
	if timeout != 0 && l.readied {
		// Goroutines this tick woke sit in this goroutine's P's run queue; blocking
		// in the kernel now would strand them until sysmon retakes the P (20 µs to
		// 10 ms). One pass through the scheduler hands them the P first; the next
		// tick then sleeps with fresh deadlines.
		l.readied = false
		l.lastYield = nanotime()
		goruntime.Gosched()
		l.count.ticks++
		l.count.tasksRun += uint64(ran)
		l.publish()
		return
	}
	slept := false
	if timeout != 0 {
		if l.inbox.prepareSleep() {
			slept = true
			l.rt.sleepers.Add(1)
		} else {
			timeout = 0
		}
	}
	l.reap(timeout)
	if slept {
		l.rt.sleepers.Add(-1)
		l.inbox.awake()
		l.count.sleeps++
	}
	l.count.ticks++
	l.count.tasksRun += uint64(ran)
	l.publish()
}

// reap hands submissions to the kernel and delivers completions, waiting up to timeout
// for one (0: not at all, -1: until one or a wakeup), and notes when it returned.
func (l *Loop) reap(timeout time.Duration) {
	n, err := l.d.Wait(timeout)
	l.lastReap = nanotime()
	if err != nil && err != poller.ErrClosed {
		l.closeErr = err
	}
	l.count.opsCompleted += uint64(n)
}

// spin checks for posted tasks and ready completions for up to SpinBeforePark (never
// past the next timer) and reports what it found. It is a bounded busy wait
// that replaces a sleep only right after the loop was busy; see Options.SpinBeforePark.
func (l *Loop) spin(now int64, timeout time.Duration) spinResult {
	limit := l.rt.opts.SpinBeforePark
	if timeout > 0 && timeout < limit {
		limit = timeout
	}
	ready, _ := l.d.(completionPeeker)
	end := now + int64(limit)
	for i := 0; ; i++ {
		if ready != nil && ready.CompletionsReady() {
			l.count.spinHits++
			return spunIO
		}
		if l.inbox.ready() {
			l.count.spinHits++
			return spunTask
		}
		if i&63 == 63 && nanotime() >= end {
			return spunNothing
		}
	}
}

type spinResult uint8

const (
	spunNothing spinResult = iota
	spunTask               // a task was posted
	spunIO                 // completions are ready
)

// completionPeeker is implemented by drivers that can tell, without a system call,
// that completions wait to be reaped (io_uring: the CQ ring is in shared memory).
type completionPeeker interface{ CompletionsReady() bool }

// minKernelWait is the shortest wait worth a system call: below it, the loop takes
// another turn instead, so that a timer due within a microsecond fires without a
// sleep the kernel would stretch (timer slack is 50 µs by default).
const minKernelWait = int64(time.Microsecond)

// NoteWake tells the loop that code running on it made a goroutine runnable (sent on a
// channel a goroutine waits on, say). Before it next blocks in the kernel the loop then
// lets Go's scheduler run that goroutine, which would otherwise wait behind the loop's
// system call. Loop.Do and Loop.Call do this themselves; packages that hand results to
// goroutines in their own way call it. On the loop only.
func (l *Loop) NoteWake() { l.readied = true }

// yieldEvery is how often a loop passes through Go's scheduler. A goroutine that only
// makes system calls never does; after 10 ms Go's monitor thread then treats it as
// running too long and preempts it with a signal at every check, interrupting its
// waits. Yielding every 2 ms keeps it in good standing, as gnet does before each wait;
// bench/echo measured 0.88× the CPU per message with it (it costs a handoff of the
// locked thread, so not on every tick).
const yieldEvery = int64(2 * time.Millisecond)

func (l *Loop) maybeYield() {
	if now := nanotime(); now-l.lastYield >= yieldEvery {
		l.lastYield = now
		goruntime.Gosched()
	}
}

// nextTimeout is how long Wait may block: 0 if work is waiting, until the next timer,
// or forever.
func (l *Loop) nextTimeout(now int64) time.Duration {
	if l.hasTasks() || l.inbox.ready() {
		return 0
	}
	when, ok := l.timers.next()
	if !ok {
		return -1
	}
	if when-now < minKernelWait {
		return 0 // a kernel wait cannot be that precise: look again instead
	}
	return time.Duration(when - now)
}

func (l *Loop) hasTasks() bool { return l.pinned.len() > 0 || l.local.len() > 0 }

// hasAnyTasks also counts the injection queue: a stopping loop helps empty it.
func (l *Loop) hasAnyTasks() bool { return l.hasTasks() || l.rt.inject.n.Load() > 0 }

// runTasks runs up to budget tasks, taking pinned and stealable ones in turn so that
// neither kind starves the other.
func (l *Loop) runTasks(budget int) int {
	ran := 0
	for ran < budget {
		var t *task
		if ran&1 == 0 {
			if t = l.pinned.popFront(); t == nil {
				t = l.local.pop()
			}
		} else if t = l.local.pop(); t == nil {
			t = l.pinned.popFront()
		}
		if t == nil {
			break
		}
		l.free.run(t)
		ran++
	}
	return ran
}

// drainInbox moves up to max posted tasks to the pinned or stealable queue.
func (l *Loop) drainInbox(max int) {
	for i := 0; i < max; i++ {
		t := l.inbox.pop()
		if t == nil {
			return
		}
		if t.stealable {
			l.local.push(t)
		} else {
			l.pinned.pushBack(t)
		}
	}
	if l.local.len() > 1 {
		l.rt.wakeThief(l)
	}
}

// steal takes half of the stealable tasks of the busiest-looking other loop. It is
// called when this loop has nothing to run, before it sleeps.
func (l *Loop) steal() int {
	defer l.rt.thief.Store(false)
	// The injection queue first: what it holds overflowed some ring and is nobody's.
	if got := l.rt.inject.take(&l.local, runqSize/2); got > 0 {
		l.count.stolen += uint64(got)
		return got
	}
	loops := l.rt.loops
	n := len(loops)
	if n < 2 {
		return 0
	}
	start := int(l.rand() % uint32(n))
	for i := 0; i < n; i++ {
		v := loops[(start+i)%n]
		if v == l || v.local.stealable() == 0 {
			continue
		}
		if got := v.local.stealHalf(&l.local); got > 0 {
			l.count.steals++
			l.count.stolen += uint64(got)
			return got
		}
	}
	return 0
}

// rand is a xorshift generator for victim choice. Owner-only, except that wakeThief
// reads it racily from posters, which only perturbs a starting point.
func (l *Loop) rand() uint32 {
	x := atomic.LoadUint32(&l.seed)
	x ^= x << 13
	x ^= x >> 17
	x ^= x << 5
	atomic.StoreUint32(&l.seed, x)
	return x
}

// Spawn queues fn on this loop's stealable run queue: it runs here unless an idle loop
// steals it first. So fn must not touch this loop's own state (its timers, its ops,
// its connections) through l: it may run on another loop's thread. Work that must stay
// here goes through Post. On the loop only; from other goroutines use Runtime.Spawn or
// Post. In steady state it allocates nothing beyond fn itself.
func (l *Loop) Spawn(fn func()) {
	t := l.free.get(fn)
	t.stealable = true
	l.local.push(t)
	if l.local.len() > 1 {
		l.rt.wakeThief(l)
	}
}

// Post runs fn on this loop, and only on this loop. Safe for concurrent use; a Post
// that returns nil happens before fn runs. It returns ErrClosed once the runtime is
// closing.
func (l *Loop) Post(fn func()) error {
	if fn == nil {
		return errNilFunc
	}
	return l.post(fn, false)
}

func (l *Loop) post(fn func(), stealable bool) error {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.exited || l.rt.closing.Load() {
		return ErrClosed
	}
	t := newTask(fn)
	t.stealable = stealable
	return l.inbox.post(t)
}

// postTask posts a task the caller owns (external: never recycled into a free list),
// so that a pooled caller posts without allocating. It stays on this loop.
func (l *Loop) postTask(t *task, fn func()) error {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.exited || l.rt.closing.Load() {
		return ErrClosed
	}
	t.fn, t.state, t.stealable = fn, taskQueued, false
	return l.inbox.post(t)
}

// requestStop asks the loop to stop: an internal post that bypasses the closing check.
func (l *Loop) requestStop() {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.exited {
		return
	}
	_ = l.inbox.post(newTask(func() { l.stop = true }))
}

// shutdown runs on the loop after its last tick: no post can arrive after the final
// drain, timers are dropped, the driver is closed (which completes every op in flight
// and runs their callbacks), and the tasks those callbacks queued run.
func (l *Loop) shutdown() {
	l.markExited()
	l.drainAll()
	for len(l.stopHooks) > 0 { // a hook may register or remove others
		hs := l.stopHooks
		l.stopHooks = nil
		for _, h := range hs {
			h.fn()
		}
		l.drainAll()
	}
	l.timers.drain(dropTimer)
	if err := l.d.Close(); err != nil && err != poller.ErrClosed && l.closeErr == nil {
		l.closeErr = err
	}
	l.bufs.gone() // the ring took the buffer table with it
	l.drainAll()
	// Callbacks that ran while the driver closed may have armed timers, which no
	// tick will fire: drop those too, until nothing is left (a drop may run code).
	for len(l.timers.items) > 0 {
		l.timers.drain(dropTimer)
		l.drainAll()
	}
	l.running = false
	l.publish()
}

// drainAll runs every task there is for this loop: posted, queued, and what spilled
// into the runtime's injection queue (a task spawned by a callback during shutdown
// may overflow the ring; a loop that stops helps empty that queue, so the last one
// leaves nothing). The local ring is empty when it takes from the injection queue,
// so the take cannot spill back.
func (l *Loop) drainAll() {
	for {
		l.drainInbox(1 << 30)
		ran := l.runTasks(1 << 30)
		if l.rt.inject.take(&l.local, runqSize/2) > 0 {
			continue
		}
		if ran == 0 && !l.inbox.ready() {
			return
		}
	}
}

func (l *Loop) markExited() {
	l.mu.Lock()
	l.exited = true
	l.mu.Unlock()
}

// hook is a function registered with OnStop or BeforeWait.
type hook struct {
	id uint64
	fn func()
}

// addHook appends fn to *list and returns the function that removes it. The list is
// never changed in place (removal makes a new slice), so a pass over it that is
// running is unaffected.
func (l *Loop) addHook(list *[]hook, fn func()) (remove func()) {
	l.nextHook++
	id := l.nextHook
	*list = append((*list)[:len(*list):len(*list)], hook{id, fn})
	return func() {
		for i, h := range *list {
			if h.id == id {
				*list = append((*list)[:i:i], (*list)[i+1:]...)
				return
			}
		}
	}
}

// BeforeWait registers fn to run on this loop once every turn, after the turn's tasks
// and timers and before the loop hands its submissions to the kernel and waits for
// completions. A package batches there what the turn's callbacks produced: znet starts
// one send per connection per turn, however many callbacks wrote to it. fn runs on every
// turn, busy or idle, so it must be short, and must not block. It returns a function
// that unregisters fn (calling it again does nothing). On the loop only.
func (l *Loop) BeforeWait(fn func()) (remove func()) { return l.addHook(&l.waitHooks, fn) }

// OnStop registers fn to run on this loop when the runtime closes, after the tasks
// already queued and before the loop's driver closes (which cancels every op in
// flight). Packages that keep state on a loop — a server's connections, say — end it
// there, including what has no op in flight that a closing driver would reach. It
// returns a function that unregisters fn (calling it again, or after fn ran, does
// nothing). On the loop only.
func (l *Loop) OnStop(fn func()) (remove func()) { return l.addHook(&l.stopHooks, fn) }

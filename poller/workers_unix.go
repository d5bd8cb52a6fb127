//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package poller

import (
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// pool runs file and path ops, which have no readiness, on a fixed number of worker
// goroutines, as libuv and libxev do. It is bounded twice: len(jobs) ops at most are
// handed to it and not yet reaped (the channel never blocks the loop: its capacity is
// len(jobs)), and cfg.workers of them run at once. More ops wait in the loop's pend
// list, in submission order, and are fed in as jobs come back. The workers start with
// the first file op and exit in stop; no goroutine is started by a constructor.
//
// The loop owns everything except the channel, the done list (guarded by mu) and each
// job's state word. Handoffs:
//   - loop → worker: the loop fills a job, then sends its index on ch; the send
//     happens before the worker's receive, so the worker sees the job's fields.
//   - worker → loop: the worker stores res, then appends the index to done under mu
//     and calls wake; the loop reads res after taking done under mu.
//   - cancel: the loop's CAS queued→cancelled and the worker's CAS queued→running
//     race on state; exactly one wins. A cancelled job is returned unrun.
type pool struct {
	jobs    []job
	free    []int32 // loop-owned stack of unused job indices
	ch      chan int32
	workers int
	wake    func()

	mu   sync.Mutex
	done []int32 // finished job indices; guarded by mu
	// ndone is len(done), stored under mu by both sides. The loop loads it without
	// the lock to skip an empty reap; a load that misses a worker's append is
	// followed by that worker's signal, so the next poll returns and reap runs.
	ndone atomic.Int32
	taken []int32 // loop-owned: the done list being reaped

	wg      sync.WaitGroup
	started bool
	stopped bool
}

// Job states, in job.state.
const (
	jobQueued uint32 = iota
	jobRunning
	jobCancelled
)

type job struct {
	state atomic.Uint32
	op    *Op   // written by the loop before the send on ch, read by the worker after
	res   int32 // written by the worker before it posts the job under mu
	slot  int32 // loop-only from here on
	gen   uint32
	fd    int32
	inUse bool
}

func (p *pool) init(workers, maxQueued int, wake func()) {
	p.workers, p.wake = workers, wake
	p.jobs = make([]job, maxQueued)
	p.free = make([]int32, maxQueued)
	for i := range p.free {
		p.free[i] = int32(maxQueued - 1 - i)
	}
}

// dispatch hands op to the workers; the caller checked canDispatch.
func (p *pool) dispatch(op *Op, idx int32, gen uint32, fd int32) int32 {
	if !p.started {
		p.started = true
		p.ch = make(chan int32, len(p.jobs))
		p.wg.Add(p.workers)
		for range p.workers {
			go p.work()
		}
	}
	j := p.free[len(p.free)-1]
	p.free = p.free[:len(p.free)-1]
	jb := &p.jobs[j]
	jb.state.Store(jobQueued)
	jb.op, jb.res = op, 0
	jb.slot, jb.gen, jb.fd, jb.inUse = idx, gen, fd, true
	p.ch <- j // never blocks: at most len(jobs) indices are out
	return j
}

func (p *pool) canDispatch() bool { return !p.stopped && len(p.free) > 0 }

// cancel stops job j from starting and reports whether it did.
func (p *pool) cancel(j int32) bool {
	return p.jobs[j].state.CompareAndSwap(jobQueued, jobCancelled)
}

func (p *pool) work() {
	defer p.wg.Done()
	var iov []unix.Iovec
	for j := range p.ch {
		jb := &p.jobs[j]
		if jb.state.CompareAndSwap(jobQueued, jobRunning) {
			jb.res = runFileOp(jb.op, &iov)
		}
		p.mu.Lock()
		p.done = append(p.done, j)
		p.ndone.Store(int32(len(p.done)))
		p.mu.Unlock()
		p.wake()
	}
}

// take returns the finished jobs; the slice is valid until the next take.
func (p *pool) take() []int32 {
	p.mu.Lock()
	p.taken, p.done = p.done, p.taken[:0]
	p.ndone.Store(0)
	p.mu.Unlock()
	return p.taken
}

// stop lets the workers finish what they hold and waits for them to exit.
func (p *pool) stop() {
	if p.started && !p.stopped {
		close(p.ch)
		p.wg.Wait()
	}
	p.stopped = true
}

// startFile sends a file or path op to the pool. Its descriptor (a file, or a
// directory for the *at ops; Fd2 of renameat is not tracked) counts it in workOps,
// which OpClose waits to drop to zero.
func (e *emul) startFile(idx int32, s *slot, op *Op) {
	if op.Fd >= 0 {
		f, errno := e.fdFor(op.Fd)
		if errno != 0 {
			e.finish(idx, -int32(errno), 0, 0)
			return
		}
		f.workOps++
		s.fd = int32(op.Fd)
	}
	e.toPool(idx, s)
}

func (e *emul) toPool(idx int32, s *slot) {
	s.state = stPending
	e.pushBack(&e.pend, idx)
	e.feed()
}

// feed moves pending ops into free jobs, oldest first.
func (e *emul) feed() {
	for e.pend.head != 0 && e.pool.canDispatch() {
		idx := e.pend.head
		e.unlink(&e.pend, idx)
		s := e.slot(idx)
		s.state = stWorker
		s.job = e.pool.dispatch(s.op, idx, s.gen, s.fd)
	}
}

// reap completes the ops whose jobs came back. A job cancelled before it ran already
// completed its op; it only returns the job.
func (e *emul) reap() {
	if e.pool.ndone.Load() == 0 {
		return
	}
	for _, j := range e.pool.take() {
		jb := &e.pool.jobs[j]
		idx, gen, res := jb.slot, jb.gen, jb.res
		ran := jb.state.Load() == jobRunning
		jb.op, jb.inUse = nil, false
		e.pool.free = append(e.pool.free, j)
		s := e.slot(idx)
		if !ran || s.gen != gen || s.state != stWorker {
			continue
		}
		if s.op.Code == OpOpenat && res >= 0 {
			e.fdBorn(int(res), kindUnknown)
		}
		e.finish(idx, res, 0, 0)
	}
	e.feed()
}

// runFileOp performs a file or path op, blocking, retrying on EINTR; it runs on a
// worker. iov is the worker's own scratch. OpClose never comes here: close(2) runs on
// the loop (closeNow).
func runFileOp(op *Op, iov *[]unix.Iovec) int32 {
	for {
		if res := fileOp(op, iov); res != -int32(unix.EINTR) {
			return res
		}
	}
}

func fileOp(op *Op, iov *[]unix.Iovec) int32 {
	if op.Code == OpSplice { // a splice with a regular file at one end
		n, errno := ioSplice(op)
		if errno != 0 {
			return -int32(errno)
		}
		return int32(n)
	}
	switch op.Code {
	case OpRead:
		if op.Offset == -1 {
			return count(unix.Read(op.Fd, op.Buf))
		}
		return count(unix.Pread(op.Fd, op.Buf, op.Offset))
	case OpWrite:
		if op.Offset == -1 {
			return count(unix.Write(op.Fd, op.Buf))
		}
		return count(unix.Pwrite(op.Fd, op.Buf, op.Offset))
	case OpReadv, OpWritev:
		*iov = fillIovecs((*iov)[:0], op.Bufs)
		n, errno := fileRW(op.Fd, *iov, op.Offset, op.Code == OpWritev)
		clear(*iov)
		if errno != 0 {
			return -int32(errno)
		}
		return int32(n)
	case OpFsync:
		return fileFsync(op.Fd, op.Arg&FsyncDatasync != 0)
	case OpFallocate:
		return fileFallocate(op)
	case OpFtruncate:
		return errRes(unix.Ftruncate(op.Fd, op.Len))
	case OpOpenat:
		return count(unix.Openat(op.Fd, op.Path, int(op.Arg), op.Mode))
	case OpStatx:
		return fileStatx(op)
	case OpUnlinkat:
		return errRes(unix.Unlinkat(op.Fd, op.Path, int(op.Arg)))
	case OpRenameat:
		return fileRenameat(op)
	case OpMkdirat:
		return errRes(unix.Mkdirat(op.Fd, op.Path, op.Mode))
	}
	return -int32(unix.EINVAL)
}

// count turns an (n, err) pair from x/sys into a result.
func count(n int, err error) int32 {
	if err != nil {
		return errRes(err)
	}
	return int32(n)
}

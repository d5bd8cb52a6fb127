package iocp

import (
	"sync"

	"golang.org/x/sys/windows"

	"github.com/zokio/zokio/poller"
)

// The ops Windows has no overlapped form of (fsync, ftruncate, fallocate and the path
// ops) run on a bounded pool of worker goroutines. A worker stores the result in the
// request and posts the request's OVERLAPPED to the port under keyWorker, so its
// completion takes the same path as the kernel's. Workers start at the first such op
// (never in New) and stop in Close, after every job has completed.

// maxWorkers bounds the pool: file ops beyond it wait in the driver's backlog.
const maxWorkers = 4

// job is what a worker needs from the op: its arguments, copied at submission so that
// the worker reads nothing the driver's goroutine writes.
type job struct {
	op *poller.Op
	h  windows.Handle     // the op's file, for fsync, ftruncate, fallocate and synchronous I/O
	ov windows.Overlapped // the offset of a synchronous handle's read or write
	n  uint32
	// foreign: h is overlapped and another port holds it (see syncRW).
	foreign bool
}

type pool struct {
	port    windows.Handle
	jobs    chan *request
	backlog []*request // accepted jobs waiting for room in jobs
	n       int        // workers started
	wg      sync.WaitGroup
}

// submit hands r to a worker, starting one if the pool is below its bound.
func (p *pool) submit(r *request) {
	if p.jobs == nil {
		p.jobs = make(chan *request, 2*maxWorkers)
	}
	if p.n < maxWorkers {
		p.n++
		p.wg.Add(1)
		go p.work()
	}
	if len(p.backlog) > 0 {
		p.backlog = append(p.backlog, r)
		p.feed()
		return
	}
	select {
	case p.jobs <- r:
	default:
		p.backlog = append(p.backlog, r)
	}
}

// feed moves backlog jobs into the channel while it has room.
func (p *pool) feed() {
	for len(p.backlog) > 0 {
		select {
		case p.jobs <- p.backlog[0]:
			p.backlog[0] = nil
			p.backlog = p.backlog[1:]
		default:
			return
		}
	}
}

func (d *Driver) feedWorkers() { d.pool.feed() }

// work runs jobs until the pool stops. A send on jobs happens before the worker reads
// the request; the worker's Store of the result happens before the packet it posts.
func (p *pool) work() {
	defer p.wg.Done()
	for r := range p.jobs {
		res := resCanceled
		// Pairs with cancelIO's Store: a job cancelled before it started is skipped.
		if !r.wcancel.Load() {
			res = runJob(&r.job)
		}
		r.wres.Store(res)
		// The port outlives every worker job: Close waits for this packet.
		_ = windows.PostQueuedCompletionStatus(p.port, 0, keyWorker, &r.ov)
	}
}

// stop ends the workers, which Close calls once no job is left.
func (p *pool) stop() {
	if p.jobs != nil {
		close(p.jobs)
		p.wg.Wait()
		p.jobs = nil
	}
}

// startWorker queues a file or path op for the pool.
func (d *Driver) startWorker(idx int32, s *slot, op *poller.Op) {
	r := s.req
	r.job = job{op: op}
	switch op.Code {
	case poller.OpFsync, poller.OpFtruncate, poller.OpFallocate, poller.OpRead, poller.OpWrite,
		poller.OpReadv, poller.OpWritev:
		hs, res := d.handleFor(op.Fd)
		if res != 0 {
			d.finish(idx, res, 0, 0)
			return
		}
		d.startJob(idx, s, op, hs)
		return
	}
	r.wcancel.Store(false)
	s.flags |= fWorker
	d.pool.submit(r)
}

// startJob queues an op on handle hs for the pool: a file op, or a read or write of a
// synchronous or foreign handle.
func (d *Driver) startJob(idx int32, s *slot, op *poller.Op, hs *handle) {
	r := s.req
	r.job = job{op: op, h: hs.h, foreign: hs.foreign}
	s.hs = hs
	hs.refs++
	r.wcancel.Store(false)
	s.flags |= fWorker
	d.pool.submit(r)
}

// finishWorker completes a worker's op. The handle an OpOpenat opened is associated
// with this driver's port at once, so that the driver that opened a file holds it
// (another driver's reads and writes of it then go to that driver's workers).
func (d *Driver) finishWorker(idx int32, s *slot, res int32) {
	if s.op.Code == poller.OpOpenat && res >= 0 {
		_, _ = d.handleFor(int(res))
	}
	d.finish(idx, res, 0, 0)
}

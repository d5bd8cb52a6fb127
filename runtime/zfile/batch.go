package zfile

import (
	"context"
	"errors"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/zokio/zokio/poller"
	"github.com/zokio/zokio/runtime"
)

// Batch hands many reads, writes and syncs to one loop at once, as a storage engine
// needs: one trip to the loop and one io_uring_enter for the lot, then each completion
// reported as it arrives (Next) or all awaited together (Wait). Ops may be linked into
// chains that the kernel runs in order, each starting only if the previous one
// succeeded in full: a write then an fsync, made durable as one unit.
//
// Queue ops with ReadAt, WriteAt, Sync and Datasync (each returns the op's index),
// link with Link, send with Submit, collect with Next or Wait, read results with
// Result, and Reset to reuse the batch: in steady state a reused batch allocates
// nothing. Files may live on any loop; those at home on the batch's loop use their
// registered slots.
//
// A Batch is used by one goroutine at a time, never on a loop (Submit, Next and Wait
// park). Buffers belong to the kernel from Submit until their op's completion is
// reported.
type Batch struct {
	l     *runtime.Loop
	reqs  []*breq // reqs[:n] are queued; reused across Reset
	n     int
	sent  int   // reqs[:sent] were handed to the loop
	left  int   // sent and not yet reported by Next
	ctxEr error // the context error that cancelled the batch, if any
	// cancelled is set on the loop by cancelOnLoop: short transfers stop there
	// instead of sending their rest, which nothing would cancel.
	cancelled atomic.Bool

	mu    sync.Mutex // guards ready, which the loop appends to
	ready []int32
	note  chan struct{} // capacity 1: "ready is not empty", sent by the loop
	local []int32       // indices taken from ready; local[head:] not yet returned by Next
	head  int

	submitFn, cancelFn func()
}

// breq is one op of a Batch. It belongs to the batch's loop while in flight: the loop
// writes res and n; the batch's goroutine reads them after taking the index from
// ready under mu.
//
// States: queued (add: fields set by the batch's goroutine) → local (completed in
// Submit by the fast path, or refused there) or sent (on the loop: file reference
// and tracked-list entry taken, op with the driver) → reported (its index in ready;
// the loop let go of it) → queued again after Reset.
type breq struct {
	op     poller.Op
	node   tnode
	b      *Batch
	i      int32
	code   poller.Opcode // OpRead, OpWrite or OpFsync
	f      *File
	p      []byte
	off    int64
	arg    uint32 // OpFsync: FsyncDatasync or 0
	link   bool   // linked to the next op
	linked bool   // the previous op links to this one
	n      int    // bytes moved so far
	local  bool   // completed in Submit, without the loop (a read of cached data)
	err    error  // set when the op failed before reaching the kernel
	res    int32  // the final completion's result
	doneFn func(*poller.Op)
}

// NewBatch returns an empty batch whose ops run on loop l.
func NewBatch(l *runtime.Loop) *Batch {
	b := &Batch{l: l, note: make(chan struct{}, 1)}
	b.submitFn, b.cancelFn = b.submitOnLoop, b.cancelOnLoop
	return b
}

// ReadAt queues a read of len(p) bytes at off and returns its index. Its result is
// what File.ReadAt would return, except on a stream (pipe, FIFO, socket), where off is
// ignored and the read takes what the stream has (File.ReadAt says ESPIPE there).
func (b *Batch) ReadAt(f *File, p []byte, off int64) int {
	return b.add(f, poller.OpRead, p, off, 0)
}

// WriteAt queues a write of p at off and returns its index.
func (b *Batch) WriteAt(f *File, p []byte, off int64) int {
	return b.add(f, poller.OpWrite, p, off, 0)
}

// Sync queues an fsync of f and returns its index.
func (b *Batch) Sync(f *File) int { return b.add(f, poller.OpFsync, nil, 0, 0) }

// Datasync queues an fdatasync of f and returns its index.
func (b *Batch) Datasync(f *File) int {
	return b.add(f, poller.OpFsync, nil, 0, poller.FsyncDatasync)
}

// Link links the op queued last to the op queued next: the next runs only after it
// succeeded in full, and otherwise completes with ErrLinkBroken. It reports false
// when no op is queued since the last Submit.
func (b *Batch) Link() bool {
	if b.n == b.sent {
		return false
	}
	b.reqs[b.n-1].link = true
	return true
}

// Len returns the number of ops queued since the last Reset.
func (b *Batch) Len() int { return b.n }

func (b *Batch) add(f *File, code poller.Opcode, p []byte, off int64, arg uint32) int {
	if b.n == len(b.reqs) {
		r := &breq{b: b, i: int32(b.n)}
		r.doneFn = r.complete
		b.reqs = append(b.reqs, r)
	}
	r := b.reqs[b.n]
	// Only the fields this goroutine owns: op and node belong to the loop (a late
	// cancel task from File.Close may still look at them there).
	r.code, r.f, r.p, r.off, r.arg = code, f, p, off, arg
	r.link, r.linked = false, b.n > b.sent && b.reqs[b.n-1].link
	r.n, r.local, r.err, r.res = 0, false, nil, 0
	switch {
	case f == nil:
	case off < 0:
		r.err = &os.PathError{Op: opName(code) + "at", Path: f.name, Err: errNegativeOffset}
	case code == poller.OpWrite && f.append:
		r.err = errWriteAtInAppendMode // as File.WriteAt: the kernel would append instead
	}
	b.n++
	return int(r.i)
}

var (
	errOpenChain = errors.New("zfile: batch ends with Link: a chain cannot span submissions")
	errBusy      = errors.New("zfile: batch has ops in flight")
	errNoSuchOp  = errors.New("zfile: no such op in the batch")
	errNotSent   = errors.New("zfile: op not submitted (Submit refused it, or was not called)")
	errNoLoop    = errors.New("zfile: batch has no loop (NewBatch(nil))")
)

// Submit hands the ops queued since the last Submit to the loop, in one step, and
// returns once they are in the driver's hands (the kernel gets them at the loop's
// next turn). It does not wait for them. If ctx has ended, nothing is sent.
//
// Reads outside chains first try the fast path, as File.ReadAt does: those whose data
// is in the page cache complete here, and a batch of only such reads never goes to
// the loop.
func (b *Batch) Submit(ctx context.Context) error {
	if b.sent == b.n {
		return nil
	}
	if b.l == nil {
		return errNoLoop // nothing sent: NewBatch was given no loop
	}
	if b.reqs[b.n-1].link {
		return errOpenChain
	}
	if err := orBackground(ctx).Err(); err != nil {
		return err
	}
	from := b.sent
	b.left += b.n - from
	pending := 0
	for _, r := range b.reqs[from:b.n] {
		if !r.tryFast() {
			pending++
		}
	}
	if pending == 0 {
		b.sent = b.n
		return nil
	}
	// Background: Call must not give up before the loop ran submitFn, or the batch
	// would not know which ops were sent.
	if err := b.l.Call(context.Background(), b.submitFn); err != nil {
		for _, r := range b.reqs[from:b.n] {
			if !r.local {
				r.err = err
				b.push(r.i)
			}
		}
		b.sent = b.n
	}
	return nil
}

// tryFast completes a lone read from the calling goroutine when its data is cached
// (reporting it as complete) and returns true; otherwise it leaves what remains of
// the read to the loop.
func (r *breq) tryFast() bool {
	f := r.f
	if r.err != nil && !r.link && !r.linked { // refused at add: completes here
		r.local = true
		r.b.push(r.i)
		return true
	}
	// A stream has no offset to read at: its reads go to the loop, which ignores it.
	if r.code != poller.OpRead || r.link || r.linked || f == nil || r.err != nil || f.stream || !f.incref() {
		return false
	}
	for r.n < len(r.p) {
		m, err := f.tryRead(r.p[r.n:min(len(r.p), r.n+maxRW)], r.off+int64(r.n))
		if err == errWouldBlock {
			break
		}
		if err != nil || m == 0 {
			r.err = err // nil at the end of the file: Result says io.EOF
			r.local = true
			break
		}
		r.n += m
	}
	f.decref()
	if r.n == len(r.p) {
		r.local = true
	}
	if r.local {
		r.b.push(r.i)
	}
	return r.local
}

// submitOnLoop runs on the loop: it sends every queued chain (a lone op is a chain of
// one). Each chain takes a reference on all its files before any op goes out, so that
// a chain is sent whole or fails whole.
func (b *Batch) submitOnLoop() {
	for b.sent < b.n {
		end := b.sent
		for b.reqs[end].link {
			end++
		}
		chain := b.reqs[b.sent : end+1]
		b.sent = end + 1
		if !chain[0].local {
			b.sendChain(chain)
		}
	}
}

func (b *Batch) sendChain(chain []*breq) {
	for k, r := range chain {
		var err error
		r.prep(b.l)
		switch {
		case r.err != nil:
			err = r.err
		case r.f == nil:
			err = os.ErrInvalid
		case poller.Validate(&r.op) != nil:
			err = poller.Validate(&r.op)
		case !r.f.incref():
			err = os.ErrClosed
		case !r.f.track(&r.node, b.l, &r.op):
			r.f.decref()
			err = os.ErrClosed
		}
		if err != nil {
			b.failChain(chain, k, err)
			return
		}
	}
	for k, r := range chain {
		if err := b.l.Submit(&r.op); err != nil {
			// Only a closing driver refuses a valid op; the rest of the chain with it.
			for _, rest := range chain[k:] {
				rest.release()
				rest.err = err
				b.push(rest.i)
			}
			return
		}
	}
}

// failChain completes a chain that could not be sent: op k failed with err, those
// after it were never run, and those before it release what they took.
func (b *Batch) failChain(chain []*breq, k int, err error) {
	for j, r := range chain {
		switch {
		case j < k:
			r.release()
			r.err = ErrLinkBroken
		case j == k:
			r.err = err
		default:
			r.err = ErrLinkBroken
		}
		b.push(r.i)
	}
}

// prep fills r's op for the rest of its transfer; an empty transfer is a NOP.
func (r *breq) prep(l *runtime.Loop) {
	f := r.f
	rest := r.p[r.n:]
	if len(rest) > maxRW {
		rest = rest[:maxRW]
	}
	switch {
	case f == nil:
		r.op = poller.Op{Code: poller.OpNop}
	case r.code == poller.OpFsync:
		r.op = poller.Op{Code: poller.OpFsync, Flags: f.eager, Fd: f.fd, Arg: r.arg}
		if f.fixed >= 0 && l == f.loop {
			r.op.Flags |= poller.FlagFixedFile
			r.op.Fd = int(f.fixed)
		}
	case len(rest) == 0:
		r.op = poller.Op{Code: poller.OpNop}
	default:
		r.op = poller.Op{Code: r.code, Flags: f.eager, Fd: f.fd, Buf: rest, Offset: r.off + int64(r.n)}
		f.useRegistered(&r.op, l)
	}
	if r.link {
		r.op.Flags |= poller.FlagLink
	}
	r.op.Done = r.doneFn
}

// release gives back what sendChain took for r: its place in the file's tracked list
// and its reference.
func (r *breq) release() {
	r.f.untrack(&r.node)
	r.f.decref()
}

// complete runs on the loop. A short transfer outside a chain continues with the rest,
// as File.ReadAt and WriteAt do; in a chain the kernel has already failed the ops
// after it, so it is reported as it is.
func (r *breq) complete(op *poller.Op) {
	res := op.Res
	if res > 0 && op.Code != poller.OpNop && op.Code != poller.OpFsync {
		r.n += int(res)
		if r.n < len(r.p) && !r.link && !r.linked {
			if r.f.isClosed() || r.b.cancelled.Load() {
				res = -int32(syscall.ECANCELED) // reported as Close's or ctx's error
				r.res = res
				r.release()
				r.b.push(r.i)
				return
			}
			r.prep(r.b.l)
			if err := r.b.l.Submit(&r.op); err == nil {
				return
			}
			res = -int32(syscall.ECANCELED)
		}
	}
	r.res = res
	r.release()
	r.b.push(r.i)
}

// push reports op i complete: safe from the loop and from the batch's goroutine.
func (b *Batch) push(i int32) {
	b.mu.Lock()
	b.ready = append(b.ready, i)
	b.mu.Unlock()
	select {
	case b.note <- struct{}{}:
	default:
	}
}

// Next waits for the next op to complete and returns its index; Result tells its
// outcome. When no submitted op is outstanding it returns -1 and io.EOF. If ctx ends
// first, Next cancels every outstanding op of the batch and goes on waiting, so that
// no result is lost: their results then carry ctx's error, or their real outcome
// where it won the race.
func (b *Batch) Next(ctx context.Context) (int, error) {
	if b.left == 0 {
		return -1, io.EOF
	}
	done := orBackground(ctx).Done()
	for {
		if b.head == len(b.local) {
			b.mu.Lock()
			b.local, b.ready, b.head = b.ready, b.local[:0], 0
			b.mu.Unlock()
		}
		if b.head < len(b.local) {
			i := b.local[b.head]
			b.head++
			b.left--
			return int(i), nil
		}
		select {
		case <-b.note:
		case <-done:
			b.ctxEr = ctx.Err()
			_ = b.l.Call(context.Background(), b.cancelFn)
			done = nil
		}
	}
}

// cancelOnLoop runs on the loop: it cancels every sent op still in flight.
func (b *Batch) cancelOnLoop() {
	b.cancelled.Store(true)
	for _, r := range b.reqs[:b.sent] {
		if r.op.InFlight() {
			_ = b.l.Cancel(&r.op)
		}
	}
}

// Wait submits what is queued and waits until every submitted op has completed. It
// returns nil if all succeeded in full, else the error of the lowest-index op that did
// not (io.EOF for a read that hit the end of the file). If ctx ends first, Wait
// cancels the outstanding ops and still waits for them (see Next).
func (b *Batch) Wait(ctx context.Context) error {
	serr := b.Submit(ctx)
	if serr != nil && b.left == 0 {
		return serr
	}
	for b.left > 0 {
		_, _ = b.Next(ctx) // fails only once nothing is left (io.EOF)
	}
	for i := range b.sent {
		if _, err := b.Result(i); err != nil {
			return err
		}
	}
	return serr // what Submit refused was never sent
}

// Result returns op i's outcome as its File method would have returned it (bytes
// moved and error). It is valid once Next returned i, or Wait returned.
func (b *Batch) Result(i int) (int, error) {
	if i < 0 || i >= b.n {
		return 0, errNoSuchOp
	}
	if i >= b.sent {
		return 0, errNotSent
	}
	r := b.reqs[i]
	var err error
	switch {
	case r.err != nil:
		err = r.err
	case r.res < 0:
		err = b.resErr(r)
	case r.code == poller.OpFsync:
	case r.n < len(r.p) && r.code == poller.OpRead:
		err = io.EOF
	case r.n < len(r.p) && r.res == 0:
		err = io.ErrUnexpectedEOF
	case r.n < len(r.p):
		err = io.ErrShortWrite
	}
	if _, shaped := err.(*os.PathError); shaped || r.f == nil {
		return r.n, err
	}
	return r.n, r.f.wrapErr(batchOpName(r), err)
}

func (b *Batch) resErr(r *breq) error {
	err := errno(r.res)
	if !errors.Is(err, syscall.ECANCELED) {
		return err
	}
	switch {
	case b.ctxEr != nil:
		return b.ctxEr
	case r.f.isClosed():
		return os.ErrClosed
	case r.linked:
		return ErrLinkBroken
	}
	return runtime.ErrClosed
}

func batchOpName(r *breq) string {
	switch {
	case r.code == poller.OpFsync && r.arg != 0:
		return "datasync"
	case r.code == poller.OpFsync:
		return "sync"
	}
	return opName(r.code)
}

// Reset empties the batch for reuse, keeping its memory. It fails while submitted ops
// are outstanding.
func (b *Batch) Reset() error {
	if b.left > 0 {
		return errBusy
	}
	for _, r := range b.reqs[:b.n] {
		r.f, r.p, r.err = nil, nil, nil
	}
	b.n, b.sent, b.ctxEr = 0, 0, nil
	b.cancelled.Store(false)
	b.local, b.head = b.local[:0], 0
	return nil
}

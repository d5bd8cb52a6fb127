package zfile

import (
	"errors"
	"io"
	"os"
	goruntime "runtime"
	"sync"
	"syscall"
	"weak"

	"github.com/zokio/zokio/poller"
	"github.com/zokio/zokio/runtime"
)

// ReadAtOn starts reading len(p) bytes at off on loop l and calls cb on l when done,
// with what ReadAt would have returned (n < len(p) only with an error, io.EOF at the
// end of the file). It is the loop-level API: call it only from code running on l (a
// task, a timer or completion callback). It never parks and, with a reused cb,
// allocates nothing in steady state.
//
// l may be any loop of the runtime; on the file's home loop the op uses the file's
// registered slot. On Windows a handle belongs to one completion port for its life,
// the home loop's (the loop that opened it): there, another loop's driver runs the
// read on its worker threads, which costs a thread handoff, so prefer the home loop. ReadAtOn returns an error, and cb is never called, when the read
// cannot start (closed file, negative offset); otherwise cb is called exactly once.
// p belongs to the kernel until cb runs. On io_uring a read of cached data completes
// at submission, in the kernel; on epoll, whose file ops run on worker threads,
// ReadAtOn copies cached data from the loop's thread first (preadv2 with RWF_NOWAIT).
// On a stream (pipe, FIFO, socket) there is no offset: off is ignored and the read
// takes what the stream has, which is how a loop waits on a pipe without a thread.
func (f *File) ReadAtOn(l *runtime.Loop, p []byte, off int64, cb func(n int, err error)) error {
	return f.startOn(l, poller.OpRead, p, off, cb)
}

// WriteAtOn is the loop-level WriteAt: it writes all of p at off and calls cb on l with
// the bytes written and the error, if any. Unlike WriteAt it reports the bytes that
// reached the file before an error. See ReadAtOn.
func (f *File) WriteAtOn(l *runtime.Loop, p []byte, off int64, cb func(n int, err error)) error {
	if f != nil && f.append {
		return errWriteAtInAppendMode
	}
	return f.startOn(l, poller.OpWrite, p, off, cb)
}

var errNoCallback = errors.New("zfile: nil loop or callback")

func (f *File) startOn(l *runtime.Loop, code poller.Opcode, p []byte, off int64, cb func(int, error)) error {
	name := opName(code)
	switch {
	case f == nil:
		return os.ErrInvalid
	case off < 0:
		return &os.PathError{Op: name + "at", Path: f.name, Err: errNegativeOffset}
	case l == nil || cb == nil:
		return f.wrapErr(name, errNoCallback)
	case !f.incref():
		return f.wrapErr(name, os.ErrClosed)
	}
	ls := f.ls
	if l != f.loop {
		ls = stateOf(l)
	}
	r := ls.get()
	r.f, r.l, r.ls, r.code, r.p, r.off, r.n, r.cb, r.err = f, l, ls, code, p, off, 0, cb, nil
	if code == poller.OpRead && ls.inlineReads(l) {
		r.tryInline()
	}
	if !f.track(&r.node, l, &r.op) {
		ls.put(r)
		f.decref()
		return f.wrapErr(name, os.ErrClosed)
	}
	if err := r.submit(); err != nil {
		f.untrack(&r.node)
		ls.put(r)
		f.decref()
		return f.wrapErr(name, err)
	}
	return nil
}

func opName(code poller.Opcode) string {
	if code == poller.OpWrite {
		return "write"
	}
	return "read"
}

// lreq is one ReadAtOn or WriteAtOn. It belongs to the loop whose free list it came
// from and is used only there: submitted, completed and recycled on that loop.
//
// States: free (in its loop's free list; no file, buffer or callback) → in flight
// (holds a file reference, sits in the file's tracked list, its op with the driver;
// a short transfer resubmits the rest from complete) → completed (untracked, reference
// dropped, back in the free list, then cb runs) → free.
type lreq struct {
	op       poller.Op
	node     tnode
	f        *File
	l        *runtime.Loop
	ls       *loopState // l's state, whose free list r returns to
	code     poller.Opcode
	p        []byte // the whole buffer; p[:n] is done
	n        int
	off      int64
	err      error // set by an inline read that ended in an error or at EOF
	cb       func(int, error)
	doneFn   func(*poller.Op) // r.complete, made once per lreq
	nextFree *lreq
}

func (ls *loopState) get() *lreq {
	r := ls.free
	if r == nil {
		r = new(lreq)
		r.doneFn = r.complete
		return r
	}
	ls.free, r.nextFree = r.nextFree, nil
	return r
}

// put recycles r, dropping what it references so that a free request keeps no file,
// buffer or callback alive.
func (ls *loopState) put(r *lreq) {
	r.op = poller.Op{}
	r.f, r.l, r.ls, r.p, r.cb, r.err = nil, nil, nil, nil, nil, nil
	r.nextFree, ls.free = ls.free, r
}

// inlineReads reports whether reads on l try the page cache inline before going to
// the driver: only where the driver runs file reads on worker threads (epoll), whose
// round trip costs far more than the copy. io_uring already completes a cached read
// inline, at submission.
func (ls *loopState) inlineReads(l *runtime.Loop) bool {
	if ls.inline == 0 {
		ls.inline = 1
		if !l.Driver().Info().Features.Has(poller.FeatAsyncFileIO) {
			ls.inline = 2
		}
	}
	return ls.inline == 2
}

// tryInline reads what the page cache holds from the loop's thread. A read that ends
// (in full, at the end of the file, or with an error) is then delivered by a NOP, so
// that cb still runs later and never inside ReadAtOn; the rest of a partial one goes
// to the driver.
func (r *lreq) tryInline() {
	if r.f.stream {
		return // no offset to read at: the ring's read ignores it
	}
	for r.n < len(r.p) {
		m, err := r.f.tryRead(r.p[r.n:min(len(r.p), r.n+maxRW)], r.off+int64(r.n))
		switch {
		case err == errWouldBlock:
			return
		case err == nil && m == 0:
			r.err = io.EOF
		case err != nil:
			r.err = err
		}
		if r.err != nil {
			return
		}
		r.n += m
	}
}

// submit hands the rest of the transfer to the loop's driver: an empty rest (an empty
// p, or a read done inline) becomes a NOP, so that cb still runs later, from the
// loop, and never inside the ReadAtOn call.
func (r *lreq) submit() error {
	rest := r.p[r.n:]
	if len(rest) > maxRW {
		rest = rest[:maxRW]
	}
	if len(rest) == 0 || r.err != nil {
		r.op = poller.Op{Code: poller.OpNop}
	} else {
		r.op = poller.Op{Code: r.code, Flags: r.f.eager, Fd: r.f.fd, Buf: rest, Offset: r.off + int64(r.n)}
		r.f.useRegistered(&r.op, r.l)
	}
	r.op.Done = r.doneFn
	return r.l.Submit(&r.op)
}

// complete runs on the loop for the op's completion: a short transfer continues with
// the rest, as ReadAt and WriteAt do, and the callback gets the total.
func (r *lreq) complete(op *poller.Op) {
	err := r.err // the outcome of an inline attempt, delivered by a NOP
	switch res := op.Res; {
	case res < 0:
		err = errno(res)
	case op.Code == poller.OpNop:
	case res == 0 && r.code == poller.OpRead:
		err = io.EOF
	case res == 0:
		err = io.ErrUnexpectedEOF
	default:
		r.n += int(res)
		if r.n < len(r.p) {
			if r.f.isClosed() {
				// Close began, and may have found nothing to cancel while this part
				// was in flight: sending the rest would make it wait for that.
				err = os.ErrClosed
				break
			}
			if err = r.submit(); err == nil {
				return
			}
		}
	}
	f, cb, n, ls, name := r.f, r.cb, r.n, r.ls, opName(r.code)
	f.untrack(&r.node)
	ls.put(r)
	f.decref()
	cb(n, f.wrapErr(name, f.completionErr(err)))
}

// completionErr translates a driver completion error: ECANCELED means Close cancelled
// the op, or the runtime did while shutting down.
func (f *File) completionErr(err error) error {
	if !errors.Is(err, syscall.ECANCELED) {
		return err
	}
	if f.isClosed() {
		return os.ErrClosed
	}
	return runtime.ErrClosed
}

// loopState is zfile's state for one loop: the free list of loop-level requests and
// the registered file table. It is used only by code running on that loop, except
// that stateOf finds it from any goroutine.
//
// The registry holds loop states under weak keys, and a state never points to its
// loop, so the registry does not keep a loop alive: when a loop (with its runtime) is
// collected, a cleanup drops its entry. A loop is collected only after its goroutine
// has exited, so its ring, and with it the registered table, is gone by then.
type loopState struct {
	free   *lreq      // recycled loop-level requests, linked through lreq.nextFree
	fixed  fixedTable // registered file table (uring only)
	inline uint8      // 0 unknown, 1 no, 2 yes: see inlineReads
}

var (
	statesMu sync.Mutex
	states   = map[weak.Pointer[runtime.Loop]]*loopState{}
)

// stateOf returns l's state, creating it on first use. Safe for concurrent use.
func stateOf(l *runtime.Loop) *loopState {
	k := weak.Make(l)
	statesMu.Lock()
	defer statesMu.Unlock()
	s := states[k]
	if s == nil {
		s = &loopState{}
		states[k] = s
		goruntime.AddCleanup(l, dropState, k)
	}
	return s
}

func dropState(k weak.Pointer[runtime.Loop]) {
	statesMu.Lock()
	delete(states, k)
	statesMu.Unlock()
}

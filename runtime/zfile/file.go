package zfile

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/zokio/zokio/internal/loopclose"
	"github.com/zokio/zokio/poller"
	"github.com/zokio/zokio/runtime"
)

// File is an open file whose operations run through a Zokio runtime. Its methods
// behave as *os.File's do (see the package documentation), and *File implements
// io.Reader, io.Writer, io.ReaderAt, io.WriterAt, io.Seeker and io.Closer.
//
// A File is safe for concurrent use by multiple goroutines, as an *os.File is: ReadAt
// and WriteAt calls may overlap freely; Read calls are serialized with each other, and
// Write calls with each other, because they share the file position; Seek is not
// serialized with them (as in os). Close may be called while other calls are in
// flight: it cancels their ops, waits for them to complete (they return errors
// matching os.ErrClosed, or their real results where those won the race), and only
// then releases the descriptor, so that its number is never reused under an op
// (docs/RELIABILITY.md C3, C4). Close must not be called on a loop: it waits.
type File struct {
	name   string
	fd     int
	rt     *runtime.Runtime
	loop   *runtime.Loop // home loop: runs the file's ops from goroutines
	ls     *loopState    // the home loop's zfile state
	fixed  int32         // slot in the home loop's registered file table, or -1
	direct bool          // opened with O_DIRECT
	append bool          // opened with O_APPEND
	stream bool          // no file position (a pipe, FIFO, socket or tty): lseek says ESPIPE

	// eager is poller.FlagSubmitNow with OpenOptions.EagerSubmit, else 0: added to the
	// file's read, write and sync ops.
	eager poller.OpFlags

	// state counts the calls using fd (low bits) and has closedBit once Close began,
	// as internal/poll's fdMutex does. Every use increments it first and fails once the
	// bit is set; Close waits on drained for the count to reach zero. The last
	// decrement after closedBit was set sends on drained (capacity 1, never blocks).
	// All accesses are sequentially consistent read-modify-writes: a use whose
	// increment comes before Close's Or in their total order is counted in what Close
	// waits for; one that comes after sees the bit and backs out.
	state   atomic.Uint64
	drained chan struct{}

	// closeCtx ends when Close begins: ops run through Loop.Do wait on it, so that
	// Close cancels them.
	closeCtx    context.Context
	closeCancel context.CancelFunc

	// noFast turns the non-blocking read attempt off: O_DIRECT, OpenOptions.NoFastPath,
	// or a file system that refused RWF_NOWAIT.
	noFast atomic.Bool

	rmu, wmu sync.Mutex // serialize Read calls and Write calls
	// pmu makes each Read, Write and Seek of a file that has a position one step on
	// it, as the kernel's f_pos_lock does for os.File: Read and Write read the
	// position, move data at explicit offsets, then set the position (see write).
	// Streams have no position and never take it, so a waiting read cannot hold up a
	// write. Taken after rmu or wmu.
	pmu sync.Mutex

	// mu guards closing and tracked: the ops started through the loop-level and batch
	// APIs, which Close cancels one by one on their loops.
	mu      sync.Mutex
	closing bool
	tracked *tnode
}

const closedBit = 1 << 63

var (
	_ io.Reader   = (*File)(nil)
	_ io.Writer   = (*File)(nil)
	_ io.ReaderAt = (*File)(nil)
	_ io.WriterAt = (*File)(nil)
	_ io.Seeker   = (*File)(nil)
	_ io.Closer   = (*File)(nil)
)

// OpenOptions tune OpenFileWith. The zero value is what OpenFile uses.
type OpenOptions struct {
	// Loop is the file's home loop, which runs its ops from goroutines. It must belong
	// to the runtime. Default: the loop the descriptor number hashes to (on Windows,
	// the loop that opened the file, whose completion port then holds its handle).
	Loop *runtime.Loop
	// Fixed installs the descriptor in the home loop's registered file table, so that
	// ring ops skip the kernel's descriptor lookup. When the table is full, the ring's
	// table was registered by someone else, or the driver has none (epoll), the file
	// uses its plain descriptor; File.Fixed tells. Backends: uring.
	Fixed bool
	// NoFastPath sends every read to the driver, without the non-blocking attempt from
	// the calling goroutine. Backends: all.
	NoFastPath bool
	// EagerSubmit hands each read, write and sync of the file to the kernel as soon as
	// its loop queues it, in an io_uring_enter of its own (poller.FlagSubmitNow), from
	// every API (goroutine, loop and Batch; a Batch of n such ops makes n enters),
	// instead of with the rest of the loop's turn in one enter. It costs an enter per
	// op, so more system calls and CPU per op; it pays on a device that completes a
	// plugged batch of requests in lockstep and idles between batches, which then sees
	// each request at once (this project's virtio disk, O_DIRECT 4 KiB random reads at
	// depth 32 from one loop: 67.4k IOPS against 59.2k without, fio's rate, for 1.4×
	// the CPU per read; bench/README.md, "file"). Leave it off for page-cache I/O and
	// for devices without that behaviour; measure first.
	// Backends: uring (epoll starts every op at once anyway).
	EagerSubmit bool
}

// Open opens the named file for reading, as os.Open does, with rt's driver.
func Open(ctx context.Context, rt *runtime.Runtime, name string) (*File, error) {
	return OpenFileWith(ctx, rt, name, os.O_RDONLY, 0, OpenOptions{})
}

// Create creates or truncates the named file, as os.Create does (mode 0666 before
// umask, opened for reading and writing).
func Create(ctx context.Context, rt *runtime.Runtime, name string) (*File, error) {
	return OpenFileWith(ctx, rt, name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0666, OpenOptions{})
}

// OpenFile opens the named file with flag (os.O_RDONLY, os.O_CREATE, O_DIRECT, ...) and
// perm, as os.OpenFile does; the openat runs through rt's driver. Errors are
// *os.PathError with Op "open". If ctx ends first the open is cancelled, unless it
// had already produced a descriptor, in which case the File is returned.
func OpenFile(ctx context.Context, rt *runtime.Runtime, name string, flag int, perm fs.FileMode) (*File, error) {
	return OpenFileWith(ctx, rt, name, flag, perm, OpenOptions{})
}

var errNilRuntime = errors.New("zfile: nil runtime")
var errForeignLoop = errors.New("zfile: loop belongs to another runtime")

// OpenFileWith is OpenFile with options.
func OpenFileWith(ctx context.Context, rt *runtime.Runtime, name string, flag int, perm fs.FileMode, o OpenOptions) (*File, error) {
	ctx = orBackground(ctx)
	perr := func(err error) error { return &os.PathError{Op: "open", Path: name, Err: hostErr("open", name, err)} }
	switch {
	case rt == nil:
		return nil, perr(errNilRuntime)
	case o.Loop != nil && o.Loop.Runtime() != rt:
		return nil, perr(errForeignLoop)
	case strings.IndexByte(name, 0) >= 0:
		return nil, perr(syscall.EINVAL) // as os: the name cannot reach the kernel
	}
	if err := platformErr(); err != nil {
		return nil, perr(err)
	}
	loops := rt.Loops()
	opener := o.Loop
	if opener == nil {
		opener = loops[int(nextOpen.Add(1))%len(loops)]
	}
	op := &poller.Op{Code: poller.OpOpenat, Fd: poller.AtFDCWD, Path: name,
		Arg: uint32(flag | syscall.O_CLOEXEC), Mode: syscallMode(perm)}
	res, err := opener.Do(ctx, op)
	if err != nil {
		return nil, perr(err)
	}
	l := o.Loop
	if l == nil {
		l = homeLoop(loops, opener, int(res))
	}
	f := newFile(rt, l, int(res), name, flag, o)
	if o.Fixed {
		f.fixed = acquireFixed(f.ls, l, f.fd)
	}
	return f, nil
}

var nextOpen atomic.Uint32 // spreads opens over the loops

func newFile(rt *runtime.Runtime, l *runtime.Loop, fd int, name string, flag int, o OpenOptions) *File {
	f := &File{name: name, fd: fd, rt: rt, loop: l, ls: stateOf(l), fixed: -1, drained: make(chan struct{}, 1),
		direct: flag&oDirect != 0 && oDirect != 0, append: flag&os.O_APPEND != 0}
	_, err := seekFd(fd, 0, io.SeekCurrent)
	f.stream = errors.Is(err, syscall.ESPIPE)
	f.closeCtx, f.closeCancel = context.WithCancel(context.Background())
	f.noFast.Store(f.direct || o.NoFastPath)
	if o.EagerSubmit {
		f.eager = poller.FlagSubmitNow
	}
	return f
}

// syscallMode converts perm as os does: permission bits plus setuid, setgid, sticky.
func syscallMode(perm fs.FileMode) uint32 {
	m := uint32(perm.Perm())
	if perm&fs.ModeSetuid != 0 {
		m |= 0o4000
	}
	if perm&fs.ModeSetgid != 0 {
		m |= 0o2000
	}
	if perm&fs.ModeSticky != 0 {
		m |= 0o1000
	}
	return m
}

// Name returns the name the file was opened with, as os.File.Name does ("" for a nil
// File).
func (f *File) Name() string {
	if f == nil {
		return ""
	}
	return f.name
}

// Fd returns the file's descriptor. It stays valid until Close; I/O on it behind the
// File's back is the caller's business (the descriptor stays in blocking mode). For a
// nil File it returns ^uintptr(0), as os.File.Fd does.
func (f *File) Fd() uintptr {
	if f == nil {
		return ^uintptr(0)
	}
	return uintptr(f.fd)
}

// Loop returns the file's home loop: the loop that runs its ops from goroutines and on
// which ReadAtOn and WriteAtOn may use its registered slot (nil for a nil File).
func (f *File) Loop() *runtime.Loop {
	if f == nil {
		return nil
	}
	return f.loop
}

// Fixed reports whether the file sits in its home loop's registered file table.
func (f *File) Fixed() bool { return f != nil && f.fixed >= 0 }

// incref registers a use of fd; it fails once Close has begun.
func (f *File) incref() bool {
	if f.state.Add(1)&closedBit != 0 {
		f.decref()
		return false
	}
	return true
}

// decref ends a use of fd; the last one after Close began wakes Close.
func (f *File) decref() {
	if f.state.Add(^uint64(0)) == closedBit {
		select {
		case f.drained <- struct{}{}:
		default:
		}
	}
}

func (f *File) isClosed() bool { return f.state.Load()&closedBit != 0 }

// Close closes the file, as os.File.Close does; a second Close returns an
// *os.PathError wrapping os.ErrClosed. Ops in flight on the file are cancelled and
// drained first (see File). If the runtime has already closed, the descriptor is
// closed directly. A close the live driver refuses (short of memory or ring space) is
// tried again after a short backoff until it runs, so Close may then take a little
// longer; it never closes the number behind the driver, which may keep state for it.
func (f *File) Close() error {
	if f == nil {
		return os.ErrInvalid
	}
	old := f.state.Or(closedBit)
	if old&closedBit != 0 {
		return f.wrapErr("close", os.ErrClosed)
	}
	f.closeCancel()
	f.cancelTracked()
	if old != 0 {
		<-f.drained
	}
	if f.fixed >= 0 {
		releaseFixed(f.ls, f.loop, f.fixed)
	}
	// Through the loop's driver; if the runtime is gone (or going) the close never ran
	// and no op of this file is in flight any more, so loopclose closes the number
	// itself, as it does when a live driver keeps refusing the close.
	err := loopclose.Close(f.loop, f.fd, closeFd)
	return f.wrapErr("close", err)
}

// tnode records one op of the loop-level or batch API in its file's tracked list, so
// that Close can cancel it on its loop. A node belongs to one loop for its whole life
// (loop-level requests come from their loop's free list, batch requests from a batch
// bound to a loop), and only that loop writes it, under the mu of the file it is
// tracked by; Close reads l and gen under that mu, and its cancel task reads gen and
// op on the loop, where gen tells a recycled node from the one Close saw.
type tnode struct {
	prev, next *tnode
	l          *runtime.Loop
	op         *poller.Op
	gen        uint64
}

// track adds n (whose op runs on l) to the tracked list; false once Close has begun.
func (f *File) track(n *tnode, l *runtime.Loop, op *poller.Op) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closing {
		return false
	}
	n.l, n.op = l, op
	n.gen++
	n.prev, n.next = nil, f.tracked
	if f.tracked != nil {
		f.tracked.prev = n
	}
	f.tracked = n
	return true
}

func (f *File) untrack(n *tnode) {
	f.mu.Lock()
	if n.prev != nil {
		n.prev.next = n.next
	} else if f.tracked == n {
		f.tracked = n.next
	}
	if n.next != nil {
		n.next.prev = n.prev
	}
	n.prev, n.next, n.l, n.op = nil, nil, nil, nil
	f.mu.Unlock()
}

// cancelTracked stops further tracking and cancels every tracked op on its loop. An op
// already complete when the cancel task runs (its node recycled: another gen) is left
// alone. Posting can fail only when the runtime is closing, and then the loops cancel
// everything themselves.
func (f *File) cancelTracked() {
	type target struct {
		n   *tnode
		gen uint64
	}
	byLoop := map[*runtime.Loop][]target{}
	f.mu.Lock()
	f.closing = true
	for n := f.tracked; n != nil; n = n.next {
		byLoop[n.l] = append(byLoop[n.l], target{n, n.gen})
	}
	f.mu.Unlock()
	for l, ts := range byLoop {
		_ = l.Post(func() {
			for _, t := range ts {
				if t.n.gen == t.gen && t.n.op != nil && t.n.op.InFlight() {
					_ = l.Cancel(t.n.op)
				}
			}
		})
	}
}

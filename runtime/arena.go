package runtime

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/zokio/zokio/internal/slots"
)

// RegisterMode says whether NewArena registers its memory with the loop's ring.
type RegisterMode uint8

const (
	// RegisterAuto registers when the driver can. When it cannot (epoll), or the
	// kernel refuses (RLIMIT_MEMLOCK, a ring whose buffer table someone else made),
	// the arena works unregistered and RegisterErr says why.
	RegisterAuto RegisterMode = iota
	// RegisterRequire makes NewArena fail when the memory cannot be registered: with
	// a *MemlockError when RLIMIT_MEMLOCK is too low, with an error wrapping
	// errors.ErrUnsupported on a driver without registered buffers.
	RegisterRequire
	// RegisterNever leaves the memory unregistered.
	RegisterNever
)

// ArenaOptions configure NewArena. Zero fields take the defaults.
type ArenaOptions struct {
	BufSize  int // bytes per buffer, a multiple of Align (default 4096)
	Count    int // number of buffers (default 64)
	Align    int // alignment of every buffer: a power of two up to the page size (default 4096)
	Register RegisterMode
}

// maxArena bounds an arena's size: the kernel registers at most 1 GiB as one buffer.
const maxArena = 1 << 30

// Arena is a block of equal, aligned buffers for one loop, mapped outside the Go heap
// (the collector never scans or moves it) and, with io_uring, registered with that
// loop's ring: an op on that loop whose buffer lies in a registered arena can run as
// READ_FIXED or WRITE_FIXED (Loop.RegisteredBuffer finds its index), which spares the
// kernel pinning the pages per op. Its buffers are aligned for O_DIRECT. Each
// registered arena takes one slot of its loop's registered buffer table, so a loop
// holds many; the table, and with it every registration, ends when the runtime closes.
//
// Backends: registration is io_uring's; on epoll an arena is a plain mapping.
//
// An Arena is safe for concurrent use by multiple goroutines: Get and Put may be called
// from anywhere, Close once all buffers are back.
type Arena struct {
	l        *Loop
	mem      []byte // the mapping; never changed
	bufSize  int
	slot     uint16      // the arena's slot in l's buffer table, while registered
	regState atomic.Bool // registered; cleared by Close or when the loop's ring goes
	regErr   error

	mu     sync.Mutex
	free   []int32 // free buffer numbers
	out    []bool  // out[i]: buffer i is handed out
	nout   int
	closed bool
}

var (
	errArenaBusy   = errors.New("zokio/runtime: arena has buffers in use")
	errNotArenaBuf = errors.New("zokio/runtime: buffer does not come from this arena or is already back")
	errTableFull   = errors.New("zokio/runtime: the loop's registered buffer table is full (" +
		strconv.Itoa(bufSlots) + " arenas)")
	errNoFixedBuffers = fmt.Errorf("zokio/runtime: the loop's driver has no registered buffers (io_uring only): %w",
		errors.ErrUnsupported)
)

// NewArena maps an arena for loop l — bound to l's NUMA node by the runtime's
// placement plan (numa.Plan.BindArena; nothing to do on a machine with one memory
// node) before its pages are allocated — and, unless o says otherwise, registers it with
// l's ring (on l's thread, as the ring requires). It returns ErrClosed once l's
// runtime is closing, and undoes its work on any failure. It may be called from any
// goroutine, on a loop included; from one loop for another it blocks the first until
// the second has registered the arena.
func NewArena(ctx context.Context, l *Loop, o ArenaOptions) (*Arena, error) {
	if l == nil {
		return nil, errors.New("zokio/runtime: NewArena: nil loop")
	}
	if ctx == nil {
		ctx = context.Background()
	}
	o.setDefaults()
	page := os.Getpagesize()
	if o.Align <= 0 || o.Align&(o.Align-1) != 0 || o.Align > page || o.BufSize <= 0 || o.BufSize%o.Align != 0 ||
		o.Count <= 0 || o.Count > 1<<24 || o.BufSize > maxArena/o.Count {
		return nil, fmt.Errorf("zokio/runtime: NewArena: bad options %+v (Align a power of two up to %d, BufSize a multiple of it, BufSize×Count up to 1 GiB)", o, page)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if l.rt.closing.Load() {
		return nil, ErrClosed
	}
	mem, err := mapArena(o.BufSize*o.Count, l.bindArena)
	if err != nil {
		return nil, err
	}
	a := &Arena{l: l, mem: mem, bufSize: o.BufSize, free: make([]int32, o.Count), out: make([]bool, o.Count)}
	for i := range a.free {
		a.free[i] = int32(o.Count - 1 - i)
	}
	if o.Register != RegisterNever {
		if posted, err := a.register(); err != nil {
			if o.Register == RegisterRequire || !posted {
				unmapArena(mem)
				return nil, err
			}
			a.regErr = err
		}
	}
	return a, nil
}

func (o *ArenaOptions) setDefaults() {
	if o.Align == 0 {
		o.Align = 4096
	}
	if o.BufSize == 0 {
		o.BufSize = 4096
	}
	if o.Count == 0 {
		o.Count = 64
	}
}

// register installs the arena in a slot of its loop's buffer table, on the loop. It
// reports whether the loop took the work (posted false: the runtime is closing).
func (a *Arena) register() (posted bool, err error) {
	if callErr := a.l.runOn(func() { err = a.l.bufs.add(a.l, a) }); callErr != nil {
		return false, callErr
	}
	return true, err
}

// bindArena binds an arena's memory to l's NUMA node, as the runtime's placement
// plan says (numa.Plan.BindArena: nothing on a machine with one memory node).
func (l *Loop) bindArena(mem []byte) error {
	if l.rt == nil || l.rt.plan == nil {
		return nil
	}
	return l.rt.plan.BindArena(l.id, mem)
}

// runOn runs fn on l and waits for it: at once when the caller is l itself (a locked
// loop's thread names it; an unlocked loop's goroutine does), else through Call.
func (l *Loop) runOn(fn func()) error {
	if l.tid != 0 && gettid() == l.tid || l.goid != 0 && curGoroutine() == l.goid {
		fn()
		return nil
	}
	return l.Call(context.Background(), fn)
}

// Loop returns the loop the arena belongs to.
func (a *Arena) Loop() *Loop { return a.l }

// BufSize returns the size of each buffer.
func (a *Arena) BufSize() int { return a.bufSize }

// Registered reports whether the arena is registered with its loop's ring. It turns
// false when the arena closes or the runtime does (the ring goes, and with it the
// registration).
func (a *Arena) Registered() bool { return a.regState.Load() }

// RegisterErr says why an arena made with RegisterAuto is not registered: a
// *MemlockError, an error wrapping errors.ErrUnsupported, or the kernel's error. It
// is nil for a registered arena and for RegisterNever.
func (a *Arena) RegisterErr() error { return a.regErr }

// Get hands out a free buffer of BufSize bytes (its capacity is BufSize too, so append
// cannot run into a neighbour), or nil when none is free or the arena is closed.
func (a *Arena) Get() []byte {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed || len(a.free) == 0 {
		return nil
	}
	i := int(a.free[len(a.free)-1])
	a.free = a.free[:len(a.free)-1]
	a.out[i] = true
	a.nout++
	off := i * a.bufSize
	return a.mem[off : off+a.bufSize : off+a.bufSize]
}

// Put gives back a buffer that Get handed out (b may be resliced, but must start
// where Get's did). No op may still use it. It returns an error, and changes
// nothing, for a buffer from elsewhere or one already given back.
func (a *Arena) Put(b []byte) error {
	i, ok := a.bufIndex(b)
	a.mu.Lock()
	defer a.mu.Unlock()
	if !ok || a.closed || !a.out[i] {
		return errNotArenaBuf
	}
	a.out[i] = false
	a.nout--
	a.free = append(a.free, int32(i))
	return nil
}

// bufIndex returns the number of the buffer b starts, if it starts one.
func (a *Arena) bufIndex(b []byte) (int, bool) {
	if cap(b) == 0 {
		return 0, false
	}
	base, p := addrOf(a.mem), addrOf(b)
	if p < base || p >= base+uintptr(len(a.mem)) || (p-base)%uintptr(a.bufSize) != 0 {
		return 0, false
	}
	return int((p - base) / uintptr(a.bufSize)), true
}

// Close unregisters and unmaps the arena. It fails while buffers are handed out: the
// kernel could still be writing into them. Like NewArena, it may be called from any
// goroutine, on a loop included; after the runtime has closed it just unmaps.
func (a *Arena) Close() error {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return os.ErrClosed
	}
	if a.nout > 0 {
		a.mu.Unlock()
		return errArenaBusy
	}
	a.closed = true
	a.mu.Unlock()
	// Out of the lookup first, so that no new op names the slot; then, on the loop,
	// out of the ring. If the loop has stopped, the ring and the registration are
	// gone (and the post fails): nothing is left to undo but the mapping.
	if a.l.bufs.unlist(a) {
		_ = a.l.runOn(func() { a.l.bufs.remove(a.l, a.slot) })
	}
	unmapArena(a.mem)
	return nil
}

// bufSlots is the size of each loop's registered buffer table: one slot per registered
// arena. An empty slot costs the kernel a pointer and pins nothing.
const bufSlots = 1024

// bufTable is a loop's registered buffer table: a sparse table registered with the
// loop's ring on first use (io_uring only), its free slots, and the lookup that
// RegisteredBuffer reads.
//
// Registration calls must come from the ring's thread (the rings are SINGLE_ISSUER),
// so ready, free and next are used only on the loop. The lookup list is copied on
// write under mu (by the loop, and by Arena.Close taking its arena out) and read with
// one atomic load from any goroutine.
type bufTable struct {
	ready bool        // the kernel's table exists; on the loop only
	slots slots.Table // on the loop only

	mu   sync.Mutex
	regs atomic.Pointer[[]bufRange] // store-release under mu, pairs with RegisteredBuffer's load
}

// bufRange is one registered arena in the lookup: its memory and its slot.
type bufRange struct {
	base, end uintptr
	slot      uint16
	a         *Arena
}

// add registers a's memory in a free slot, creating the kernel's table first if need
// be, and lists it for RegisteredBuffer. On the loop only.
func (t *bufTable) add(l *Loop, a *Arena) error {
	if !t.ready {
		if err := registerBufTable(l, bufSlots); err != nil {
			return err
		}
		t.ready = true
		t.slots.Size = bufSlots
	}
	s, ok := t.slots.Get()
	if !ok {
		return errTableFull
	}
	slot := uint16(s)
	if err := setBufSlot(l, slot, a.mem); err != nil {
		t.slots.Put(s)
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	a.slot = slot
	a.regState.Store(true)
	t.publish(bufRange{base: addrOf(a.mem), end: addrOf(a.mem) + uintptr(len(a.mem)), slot: slot, a: a}, nil)
	return nil
}

// unlist takes a out of the lookup and reports whether it was registered (and its
// ring still there), so that the caller empties its slot. Any goroutine.
func (t *bufTable) unlist(a *Arena) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !a.regState.Swap(false) {
		return false
	}
	t.publish(bufRange{}, a)
	return true
}

// publish stores a copy of the lookup list with add appended (unless it is empty)
// and drop left out. The caller holds mu.
func (t *bufTable) publish(add bufRange, drop *Arena) {
	var next []bufRange
	if cur := t.regs.Load(); cur != nil {
		next = make([]bufRange, 0, len(*cur)+1)
		for _, r := range *cur {
			if r.a != drop {
				next = append(next, r)
			}
		}
	}
	if add.a != nil {
		next = append(next, add)
	}
	t.regs.Store(&next)
}

// remove empties slot, which unlist already took out of the lookup, and frees it. A
// slot the kernel would not empty is never reused. On the loop only.
func (t *bufTable) remove(l *Loop, slot uint16) {
	if t.ready && setBufSlot(l, slot, nil) == nil {
		t.slots.Put(int(slot))
	}
}

// gone forgets the table once the loop's driver, and with it the kernel's table, has
// closed: the arenas still open read as unregistered, and the lookup finds nothing.
// On the loop, at shutdown.
func (t *bufTable) gone() {
	t.ready = false
	t.mu.Lock()
	defer t.mu.Unlock()
	if cur := t.regs.Load(); cur != nil {
		for _, r := range *cur {
			r.a.regState.Store(false)
		}
		t.regs.Store(nil)
	}
}

// RegisteredBuffer reports whether p lies entirely inside an arena registered with
// l's ring and, if so, that arena's registered buffer index: an op on l whose buffer
// is p can then set poller.FlagFixedBuffer and Op.BufIndex to it. It is safe for
// concurrent use by multiple goroutines and allocates nothing: one atomic load and a
// scan of l's registered arenas. The answer holds while the caller keeps a buffer of
// that arena out (Arena.Close refuses until all are back).
func (l *Loop) RegisteredBuffer(p []byte) (index uint16, ok bool) {
	regs := l.bufs.regs.Load() // load-acquire, pairs with publish's store
	if regs == nil || len(p) == 0 {
		return 0, false
	}
	start := addrOf(p)
	end := start + uintptr(len(p))
	for i := range *regs {
		if r := &(*regs)[i]; start >= r.base && end <= r.end {
			return r.slot, true
		}
	}
	return 0, false
}

// addrOf returns the address of b's first byte, compared as an integer only: the
// memory is never reached through it.
func addrOf(b []byte) uintptr {
	// SAFETY: no pointer is made back from the integer; the arena's mapping lies
	// outside the Go heap, and a heap buffer's address only needs to compare unequal.
	return uintptr(unsafe.Pointer(unsafe.SliceData(b)))
}

// MemlockError reports that registering buffers with the kernel was refused, or would
// be, because the pages would exceed RLIMIT_MEMLOCK. NewArena returns it only when the
// caller required registration (RegisterRequire); with RegisterAuto the arena works
// unregistered and Arena.RegisterErr returns it. errors.Is(err, syscall.ENOMEM) holds.
type MemlockError struct {
	Have uint64 // RLIMIT_MEMLOCK's soft limit, in bytes
	Need uint64 // the bytes the registration would lock
	Err  error  // the error from io_uring_register, or syscall.ENOMEM when checked before
}

// Error reports both sizes and what to do about them.
func (e *MemlockError) Error() string {
	return "zokio/runtime: registering " + strconv.FormatUint(e.Need, 10) +
		" bytes of buffers exceeds RLIMIT_MEMLOCK (" + strconv.FormatUint(e.Have, 10) +
		" bytes); raise it (ulimit -l) or use a smaller arena: " + e.Err.Error()
}

// Unwrap returns the registration error (wrapping syscall.ENOMEM).
func (e *MemlockError) Unwrap() error { return e.Err }

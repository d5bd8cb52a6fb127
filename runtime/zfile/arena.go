package zfile

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/zokio/zokio/runtime"
)

// RegisterMode says whether NewArena registers its memory with the loop's ring.
type RegisterMode uint8

const (
	// RegisterAuto registers when the driver can. When it cannot (epoll), or the
	// kernel refuses (RLIMIT_MEMLOCK, a ring that already has registered buffers),
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

// Arena is a block of equal, aligned buffers for one loop, mapped outside the Go heap
// (the collector never scans or moves it) and, with io_uring, registered with that
// loop's ring: a read or write on that loop whose buffer lies in a registered arena
// runs as READ_FIXED or WRITE_FIXED, which spares the kernel pinning the pages per op.
// Its buffers are aligned for O_DIRECT. A ring holds one registered arena.
//
// An Arena is safe for concurrent use by multiple goroutines: Get and Put may be called
// from anywhere, Close once all buffers are back.
type Arena struct {
	l        *runtime.Loop
	mem      []byte // the mapping; never changed (after Close only its address is compared)
	bufSize  int
	index    uint16 // the registered buffer's index in the ring
	regState atomic.Bool
	regErr   error

	mu     sync.Mutex
	free   []int32 // free buffer numbers
	out    []bool  // out[i]: buffer i is handed out
	nout   int
	closed bool
}

var errArenaBusy = errors.New("zfile: arena has buffers in use")
var errNotArenaBuf = errors.New("zfile: buffer does not come from this arena or is already back")

// NewArena maps an arena for loop l and, unless o says otherwise, registers it with
// l's ring. It undoes its work on failure.
func NewArena(ctx context.Context, l *runtime.Loop, o ArenaOptions) (*Arena, error) {
	if l == nil {
		return nil, errors.New("zfile: NewArena: nil loop")
	}
	ctx = orBackground(ctx)
	o.setDefaults()
	page := os.Getpagesize()
	if o.Align&(o.Align-1) != 0 || o.Align > page || o.BufSize%o.Align != 0 || o.Count <= 0 ||
		o.BufSize <= 0 || o.Count > 1<<24 || o.BufSize > maxRW/o.Count {
		return nil, fmt.Errorf("zfile: NewArena: bad options %+v (Align a power of two up to %d, BufSize a multiple of it, BufSize×Count up to 1 GiB)", o, page)
	}
	mem, err := mapArena(o.BufSize * o.Count)
	if err != nil {
		return nil, err
	}
	a := &Arena{l: l, mem: mem, bufSize: o.BufSize, free: make([]int32, o.Count), out: make([]bool, o.Count)}
	for i := range a.free {
		a.free[i] = int32(o.Count - 1 - i)
	}
	if o.Register != RegisterNever {
		if err := a.register(ctx); err != nil {
			if o.Register == RegisterRequire {
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

// Loop returns the loop the arena belongs to.
func (a *Arena) Loop() *runtime.Loop { return a.l }

// BufSize returns the size of each buffer.
func (a *Arena) BufSize() int { return a.bufSize }

// Registered reports whether the arena is registered with its loop's ring.
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
	// Addresses are compared as integers only; the arena is outside the Go heap.
	base := uintptr(unsafe.Pointer(unsafe.SliceData(a.mem)))
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	if p < base || p >= base+uintptr(len(a.mem)) || (p-base)%uintptr(a.bufSize) != 0 {
		return 0, false
	}
	return int((p - base) / uintptr(a.bufSize)), true
}

// contains reports whether b lies entirely inside the arena.
func (a *Arena) contains(b []byte) bool {
	base := uintptr(unsafe.Pointer(unsafe.SliceData(a.mem)))
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	return p >= base && p+uintptr(len(b)) <= base+uintptr(len(a.mem))
}

// Close unregisters and unmaps the arena. It fails while buffers are handed out: the
// kernel could still be writing into them.
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
	if a.regState.Load() {
		a.unregister()
	}
	unmapArena(a.mem)
	return nil
}

// registered lists the registered arenas, for useRegistered's lookup: copied on
// write, read without locks on every ring read or write.
var (
	registered   atomic.Pointer[[]*Arena]
	registeredMu sync.Mutex
)

func listArena(a *Arena, add bool) {
	registeredMu.Lock()
	defer registeredMu.Unlock()
	var next []*Arena
	if cur := registered.Load(); cur != nil {
		for _, x := range *cur {
			if x != a {
				next = append(next, x)
			}
		}
	}
	if add {
		next = append(next, a)
	}
	registered.Store(&next)
}

// registeredIndex returns the registered buffer index for p when p lies in an arena
// registered with l's ring.
func registeredIndex(l *runtime.Loop, p []byte) (uint16, bool) {
	list := registered.Load()
	if list == nil || len(p) == 0 {
		return 0, false
	}
	for _, a := range *list {
		if a.l == l && a.contains(p) {
			return a.index, true
		}
	}
	return 0, false
}

// AlignedBuffer returns a buffer of size bytes from the Go heap whose first byte is
// aligned to align (a power of two), for O_DIRECT reads and writes without an Arena.
// The Go heap never moves objects, so the alignment holds for the buffer's life.
func AlignedBuffer(size, align int) []byte {
	if align <= 0 || align&(align-1) != 0 || size < 0 {
		return nil
	}
	b := make([]byte, size+align)
	off := 0
	if r := int(uintptr(unsafe.Pointer(unsafe.SliceData(b))) & uintptr(align-1)); r != 0 {
		off = align - r
	}
	return b[off : off+size : off+size]
}

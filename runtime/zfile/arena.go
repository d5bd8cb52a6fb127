package zfile

import (
	"context"
	"unsafe"

	"github.com/zokio/zokio/runtime"
)

// RegisterMode says whether NewArena registers its memory with the loop's ring. It is
// runtime.RegisterMode: arenas belong to the runtime, which zfile and znet share.
type RegisterMode = runtime.RegisterMode

const (
	// RegisterAuto is runtime.RegisterAuto: register when the driver can, else work
	// unregistered and say why (Arena.RegisterErr).
	RegisterAuto = runtime.RegisterAuto
	// RegisterRequire is runtime.RegisterRequire: NewArena fails when the memory
	// cannot be registered.
	RegisterRequire = runtime.RegisterRequire
	// RegisterNever is runtime.RegisterNever: the memory stays unregistered.
	RegisterNever = runtime.RegisterNever
)

// ArenaOptions configure NewArena; it is runtime.ArenaOptions.
type ArenaOptions = runtime.ArenaOptions

// Arena is runtime.Arena: a block of equal, aligned buffers for one loop, mapped
// outside the Go heap and, with io_uring, registered with that loop's ring. A read or
// write on that loop whose buffer lies in a registered arena runs as READ_FIXED or
// WRITE_FIXED. A loop holds many registered arenas. It is safe for concurrent use by
// multiple goroutines.
type Arena = runtime.Arena

// MemlockError is runtime.MemlockError: registration refused because the pages would
// exceed RLIMIT_MEMLOCK. errors.Is(err, syscall.ENOMEM) holds.
type MemlockError = runtime.MemlockError

// NewArena maps an arena for loop l and, unless o says otherwise, registers it with
// l's ring: runtime.NewArena.
func NewArena(ctx context.Context, l *runtime.Loop, o ArenaOptions) (*Arena, error) {
	return runtime.NewArena(ctx, l, o)
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

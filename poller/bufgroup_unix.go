//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package poller

import (
	"fmt"
	"math"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// emulGroup is the readiness drivers' BufferGroup: count buffers of size bytes in one
// anonymous private mapping (outside the Go heap, so the GC never scans or moves it),
// and a FIFO ring of free buffer ids, handed out in the order they were released as an
// io_uring buffer ring does. A bitmap records which ids are out, so a double or stray
// Release is detected and ignored instead of corrupting the ring.
//
// An emulGroup is used only by the goroutine that owns its driver. Its memory is
// unmapped by the driver's Close; every view from Bytes is invalid from then on.
type emulGroup struct {
	id          uint16
	size, count int
	mem         []byte   // the mapping; nil after free
	ring        []uint16 // free ids: ring[head&mask] is the next to hand out
	head, tail  uint32   // tail-head free ids; both only grow (mod 2^32)
	out         []uint64 // bitmap of ids handed out and not yet released
}

var _ BufferGroup = (*emulGroup)(nil)

// newGroup creates buffer group id (see Driver.NewBufferGroup).
func newGroup(id uint16, count, size int) (*emulGroup, error) {
	if count <= 0 || count > 32768 || count&(count-1) != 0 {
		return nil, fmt.Errorf("poller: buffer group count %d is not a power of two up to 32768: %w",
			count, syscall.EINVAL)
	}
	if size <= 0 || size > math.MaxInt32 || count*size/count != size {
		return nil, fmt.Errorf("poller: buffer group size %d out of range: %w", size, syscall.EINVAL)
	}
	mem, err := unix.Mmap(-1, 0, count*size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		return nil, fmt.Errorf("poller: buffer group of %d×%d bytes: %w", count, size, os.NewSyscallError("mmap", err))
	}
	g := &emulGroup{id: id, size: size, count: count, mem: mem,
		ring: make([]uint16, count), out: make([]uint64, (count+63)/64)}
	for i := range g.ring {
		g.ring[i] = uint16(i)
	}
	g.tail = uint32(count)
	return g, nil
}

// ID returns the value to put in Op.Group.
func (g *emulGroup) ID() uint16 { return g.id }

// Size returns the size of each buffer.
func (g *emulGroup) Size() int { return g.size }

// Count returns the number of buffers.
func (g *emulGroup) Count() int { return g.count }

// Bytes returns buffer id's memory, or nil for an id out of range or after the
// driver closed. The slice's capacity ends with the buffer, so an append cannot
// spill into the next one.
func (g *emulGroup) Bytes(id uint16) []byte {
	if int(id) >= g.count || g.mem == nil {
		return nil
	}
	off := int(id) * g.size
	return g.mem[off : off+g.size : off+g.size]
}

// Release gives buffer id back for later receives. Releasing an id that is out of
// range or not handed out (a double release) is a caller bug that Release ignores:
// the group stays consistent, and the same call on the io_uring driver cannot
// corrupt its ring either.
func (g *emulGroup) Release(id uint16) {
	if int(id) >= g.count || g.mem == nil || g.out[id/64]&(1<<(id%64)) == 0 {
		return
	}
	g.out[id/64] &^= 1 << (id % 64)
	g.ring[g.tail&uint32(g.count-1)] = id
	g.tail++
}

// peekN fills ids with the next free ids, in the order take hands them out, and
// returns how many it found: 0 when none is free (a nil group, for an unknown
// Op.Group, has none).
func (g *emulGroup) peekN(ids []uint16) int {
	if g == nil {
		return 0
	}
	n := 0
	for h := g.head; h != g.tail && n < len(ids); h++ {
		ids[n] = g.ring[h&uint32(g.count-1)]
		n++
	}
	return n
}

// take hands out the first id peekN returned.
func (g *emulGroup) take() {
	id := g.ring[g.head&uint32(g.count-1)]
	g.head++
	g.out[id/64] |= 1 << (id % 64)
}

// view is Bytes for an id the caller knows is valid.
func (g *emulGroup) view(id uint16) []byte {
	off := int(id) * g.size
	return g.mem[off : off+g.size : off+g.size]
}

func (g *emulGroup) free() {
	if g != nil && g.mem != nil {
		_ = unix.Munmap(g.mem)
		g.mem = nil
	}
}

// newBufferGroup implements Driver.NewBufferGroup. Group ids start at 1, so that a
// zero Op.Group names no group (Submit refuses its receives).
func (e *emul) newBufferGroup(count, size int) (BufferGroup, error) {
	if e.closed {
		return nil, ErrClosed
	}
	if len(e.groups) == 0 {
		e.groups = append(e.groups, nil)
	}
	if len(e.groups) > math.MaxUint16 {
		return nil, fmt.Errorf("poller: too many buffer groups: %w", syscall.ENOSPC)
	}
	g, err := newGroup(uint16(len(e.groups)), count, size)
	if err != nil {
		return nil, err
	}
	e.groups = append(e.groups, g)
	return g, nil
}

// Package bufgroup holds the buffer group that Zokio's drivers without kernel buffer
// rings hand out for OpRecv with FlagBufferSelect: the readiness core in package poller
// (epoll, kqueue) and the IOCP driver.
package bufgroup

import (
	"fmt"
	"syscall"
)

// ErrTooMany is returned when a driver has no group id left.
var ErrTooMany = fmt.Errorf("bufgroup: too many buffer groups: %w", syscall.ENOSPC)

// Group is count buffers of size bytes in one anonymous mapping outside the Go heap (so
// the GC never scans or moves it, and a pending overlapped receive may write into it),
// and a FIFO ring of free buffer ids, handed out in the order they were released, as an
// io_uring buffer ring does. A bitmap records which ids are out, so a double or stray
// Release is detected and ignored instead of corrupting the ring.
//
// A Group is used only by the goroutine that owns its driver. Its memory is released by
// Free (the driver's Close); every view from Bytes is invalid from then on.
type Group struct {
	id          uint16
	size, count int
	mem         []byte   // the mapping; nil after Free
	ring        []uint16 // free ids: ring[head&mask] is the next to hand out
	head, tail  uint32   // tail-head free ids; both only grow (mod 2^32)
	out         []uint64 // bitmap of ids handed out and not yet released
}

// MaxSize is the largest buffer a group has: 1 GiB, as io_uring's driver allows, so that
// every driver refuses the same sizes.
const MaxSize = 1 << 30

// New creates group id of count buffers of size bytes. Count must be a power of two up
// to 32768; errors.Is(err, syscall.EINVAL) holds for a bad count or size.
func New(id uint16, count, size int) (*Group, error) {
	if count <= 0 || count > 32768 || count&(count-1) != 0 {
		return nil, fmt.Errorf("poller: buffer group count %d is not a power of two up to 32768: %w",
			count, syscall.EINVAL)
	}
	if size <= 0 || size > MaxSize || count*size/count != size {
		return nil, fmt.Errorf("poller: buffer group size %d out of range: %w", size, syscall.EINVAL)
	}
	mem, err := alloc(count * size)
	if err != nil {
		return nil, fmt.Errorf("poller: buffer group of %d×%d bytes: %w", count, size, err)
	}
	g := &Group{id: id, size: size, count: count, mem: mem,
		ring: make([]uint16, count), out: make([]uint64, (count+63)/64)}
	for i := range g.ring {
		g.ring[i] = uint16(i)
	}
	g.tail = uint32(count)
	return g, nil
}

// ID returns the value to put in Op.Group.
func (g *Group) ID() uint16 { return g.id }

// Size returns the size of each buffer.
func (g *Group) Size() int { return g.size }

// Count returns the number of buffers.
func (g *Group) Count() int { return g.count }

// Available returns how many buffers are free.
func (g *Group) Available() int {
	if g == nil {
		return 0
	}
	return int(g.tail - g.head)
}

// Bytes returns buffer id's memory, or nil for an id out of range or after Free. The
// slice's capacity ends with the buffer, so an append cannot spill into the next one.
func (g *Group) Bytes(id uint16) []byte {
	if int(id) >= g.count || g.mem == nil {
		return nil
	}
	return g.View(id)
}

// Release gives buffer id back for later receives. Releasing an id that is out of
// range or not handed out (a double release) is a caller bug that Release ignores: the
// group stays consistent, as the same call on the io_uring driver keeps its ring.
func (g *Group) Release(id uint16) {
	if g == nil || int(id) >= g.count || g.mem == nil || g.out[id/64]&(1<<(id%64)) == 0 {
		return
	}
	g.out[id/64] &^= 1 << (id % 64)
	g.ring[g.tail&uint32(g.count-1)] = id
	g.tail++
}

// PeekN fills ids with the next free ids, in the order Take hands them out, and returns
// how many it found: 0 when none is free (a nil group, for an unknown Op.Group, has
// none).
func (g *Group) PeekN(ids []uint16) int {
	if g == nil || g.mem == nil {
		return 0
	}
	n := 0
	for h := g.head; h != g.tail && n < len(ids); h++ {
		ids[n] = g.ring[h&uint32(g.count-1)]
		n++
	}
	return n
}

// Take hands out the first id PeekN returned.
func (g *Group) Take() {
	id := g.ring[g.head&uint32(g.count-1)]
	g.head++
	g.out[id/64] |= 1 << (id % 64)
}

// View is Bytes for an id the caller knows is valid.
func (g *Group) View(id uint16) []byte {
	off := int(id) * g.size
	return g.mem[off : off+g.size : off+g.size]
}

// Free releases the group's memory.
func (g *Group) Free() {
	if g != nil && g.mem != nil {
		_ = release(g.mem)
		g.mem = nil
	}
}

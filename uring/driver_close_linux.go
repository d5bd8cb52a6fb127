package uring

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/zokio/zokio/poller"
)

// Close cancels every op in flight, delivers their completions (Done runs inside
// Close), waits until the kernel holds no reference to Go memory, then releases the
// ring. Ops the kernel cannot interrupt (file I/O already running in its workers)
// complete with their real results; Close waits for them in the kernel, without
// spinning.
func (d *Driver) Close() error {
	if d.closed || d.closing {
		return poller.ErrClosed
	}
	if d.dispatching {
		return poller.ErrReentrant
	}
	d.closing = true
	for _, idx := range d.pend {
		if d.slots.at(idx).state == statePending {
			d.finishEarly(idx, -int32(unix.ECANCELED))
		}
	}
	d.pend = d.pend[:0]
	for fd, idx := range d.closers {
		delete(d.closers, fd)
		d.finishEarly(idx, -int32(unix.ECANCELED))
	}
	sqe := d.nextSQE()
	sqe.PrepCancel(0, CancelAny|CancelAll)
	sqe.SetUserData(userData(tagInternal, 0, 0))
	d.deliverReady()
	var err error
	for d.slots.inUse > 0 || d.wake.armed {
		if _, e := d.ring.SubmitAndWait(1, -1); e != nil && !errors.Is(e, unix.EBUSY) && !errors.Is(e, unix.EAGAIN) {
			err = fmt.Errorf("uring: draining at Close: %w", e)
			break
		}
		d.reap()
		d.deliverReady()
	}
	d.closed = true
	d.wake.close()
	for _, g := range d.groups {
		g.free()
	}
	d.groups = nil
	if e := d.ring.Close(); err == nil {
		err = e
	}
	return err
}

// bufGroup is a provided-buffer ring with its buffers, both mapped outside the Go heap.
//
// Where the kernel has it, the ring consumes buffers incrementally (IOU_PBUF_RING_INC):
// a receive takes only the bytes it needs from the current buffer, and the next one
// continues after them, so a 64-byte message uses 64 bytes of a buffer instead of all
// of it and a burst fills a buffer to the end. The driver tracks where each buffer's
// next piece starts, how many of its pieces the reader still holds, and whether the
// kernel is done with it (a completion without IORING_CQE_F_BUF_MORE); the buffer goes
// back into the ring when both are.
type bufGroup struct {
	d     *Driver
	id    uint16
	size  int
	count int
	mem   []byte
	br    *BufRing
	inc   bool     // incremental consumption
	next  []uint32 // next[id]: where buffer id's next piece starts (inc only)
	held  []uint32 // held[id]: pieces of buffer id handed out and not yet released
	done  []bool   // done[id]: the kernel is done with buffer id (it left the ring)
}

// NewBufferGroup registers count buffers of size bytes as a provided buffer ring,
// consumed incrementally where the kernel allows it (Linux 6.12).
func (d *Driver) NewBufferGroup(count, size int) (poller.BufferGroup, error) {
	if d.closed || d.closing {
		return nil, poller.ErrClosed
	}
	if count <= 0 || count > 32768 || count&(count-1) != 0 || size <= 0 || size > 1<<30 {
		return nil, fmt.Errorf("uring: buffer group of %d×%d bytes: %w (count must be a power of two up to 32768, size positive)", count, size, unix.EINVAL)
	}
	id := uint16(len(d.groups))
	mem, err := unix.Mmap(-1, 0, count*size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return nil, fmt.Errorf("uring: buffer group memory: %w", err)
	}
	inc := !d.noIncBufs
	br, err := d.ring.SetupBufRing(uint32(count), id, bufRingFlags(inc))
	if inc && errors.Is(err, unix.EINVAL) {
		// The kernel refused the flag after all (the probe at New accepted it):
		// whole buffers it is, from now on.
		d.noIncBufs, inc = true, false
		d.feat &^= poller.FeatIncrementalBuffers
		br, err = d.ring.SetupBufRing(uint32(count), id, 0)
	}
	if err != nil {
		unix.Munmap(mem)
		return nil, err
	}
	g := &bufGroup{d: d, id: id, size: size, count: count, mem: mem, br: br, inc: inc,
		held: make([]uint32, count), done: make([]bool, count)}
	if inc {
		g.next = make([]uint32, count)
	}
	for i := 0; i < count; i++ {
		br.Add(g.Bytes(uint16(i)), uint16(i), i)
	}
	br.Advance(count)
	d.groups = append(d.groups, g)
	return g, nil
}

func bufRingFlags(inc bool) BufRingFlags {
	if inc {
		return BufRingInc
	}
	return 0
}

func (d *Driver) group(id uint16) *bufGroup {
	if int(id) < len(d.groups) {
		return d.groups[id]
	}
	return nil
}

// Incremental reports whether receives take buffers a part at a time (see bufGroup).
func (g *bufGroup) Incremental() bool { return g.inc }

func (g *bufGroup) ID() uint16 { return g.id }
func (g *bufGroup) Size() int  { return g.size }
func (g *bufGroup) Count() int { return g.count }

// Bytes returns buffer id's memory.
func (g *bufGroup) Bytes(id uint16) []byte {
	if g.mem == nil || int(id) >= g.count {
		return nil
	}
	off := int(id) * g.size
	return g.mem[off : off+g.size : off+g.size]
}

// handOut records a completion's piece of buffer id: n bytes, with the kernel keeping
// the buffer for more (more) or done with it. It returns where the piece starts.
func (g *bufGroup) handOut(id uint16, n int32, more bool) uint32 {
	if int(id) >= g.count {
		return 0
	}
	g.held[id]++
	if !g.inc {
		g.done[id] = true
		return 0
	}
	off := g.next[id]
	if n > 0 {
		g.next[id] += uint32(n)
	}
	g.done[id] = !more
	return off
}

// Release gives back one piece of buffer id; the buffer returns to the kernel (one
// entry at the ring's tail and a store-release of the new tail, inside Advance) once
// the kernel is done with it and no piece is held. Releasing a piece the reader does
// not hold is ignored: handing the kernel a buffer twice would let two receives share
// it.
func (g *bufGroup) Release(id uint16) {
	if int(id) >= g.count || g.br == nil || g.held[id] == 0 {
		return
	}
	g.held[id]--
	if g.held[id] > 0 || !g.done[id] {
		return
	}
	g.done[id] = false
	if g.inc {
		g.next[id] = 0
	}
	g.br.Add(g.Bytes(id), id, 0)
	g.br.Advance(1)
}

func (g *bufGroup) free() {
	if g.br != nil {
		_ = g.br.Free()
		g.br = nil
	}
	if g.mem != nil {
		_ = unix.Munmap(g.mem)
		g.mem = nil
	}
}

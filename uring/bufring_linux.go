package uring

import (
	"encoding/binary"
	"os"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// maxBufRingEntries is the kernel's limit on a provided buffer ring.
const maxBufRingEntries = 1 << 15

// BufRing is a provided buffer ring: a ring of buffer descriptors from which
// the kernel takes a buffer for each operation prepared with
// SQEBufferSelect and its group, reporting which in the CQE (CQE.BufID).
//
// The application adds buffers (Add) and publishes them (Advance); the
// kernel consumes them in order. A buffer handed back in a CQE is the
// application's again until it is added anew. With BufRingInc the kernel may
// fill a buffer over several CQEs: CQEFlagBufMore says it keeps it.
//
// A BufRing belongs to its Ring's owner, like the Ring itself, and must not
// be copied.
type BufRing struct {
	_       noCopy
	r       *Ring
	mem     unsafe.Pointer // the ring memory, outside the Go heap
	memLen  uintptr
	entries []BufRingEntry
	mask    uint16
	tail    uint16 // our tail; published by Advance
	group   uint16
}

// SetupBufRing creates a buffer ring of entries slots (a power of two, at
// most 32768) for buffer group and registers it. Without BufRingMmap the
// ring lives in anonymous memory this package maps, outside the Go heap;
// with it the kernel allocates it and the package maps it from the ring fd.
// BufRingInc asks for incremental consumption (EINVAL where the kernel
// lacks it). The ring starts empty.
func (r *Ring) SetupBufRing(entries uint32, group uint16, f BufRingFlags) (*BufRing, error) {
	if r.closed {
		return nil, os.ErrClosed
	}
	if entries == 0 || entries > maxBufRingEntries || entries&(entries-1) != 0 {
		return nil, os.NewSyscallError("io_uring_register", unix.EINVAL)
	}
	b := &BufRing{r: r, mask: uint16(entries - 1), group: group}
	size := uintptr(entries) * unsafe.Sizeof(BufRingEntry{})
	reg := BufReg{RingEntries: entries, Bgid: group, Flags: f}
	if f&BufRingMmap == 0 {
		if err := b.mapAt(-1, 0, size); err != nil {
			return nil, err
		}
		reg.RingAddr = uint64(uintptr(b.mem))
	}
	// SAFETY: reg is live for the call; the ring memory it names stays
	// mapped until release, which follows the unregister.
	if _, err := r.registerErr(RegisterPbufRing, unsafe.Pointer(&reg), 1); err != nil {
		b.release()
		return nil, err
	}
	if f&BufRingMmap != 0 {
		if err := b.mapAt(r.fd, offPbufRing|int64(group)<<offPbufShift, size); err != nil {
			b.unregister()
			return nil, err
		}
	}
	// SAFETY: the mapping holds entries slots and outlives b.entries,
	// which release clears before unmapping.
	b.entries = unsafe.Slice((*BufRingEntry)(b.mem), entries)
	r.bufs = append(r.bufs, b)
	return b, nil
}

// mapAt maps the ring memory: anonymous when fd is -1.
func (b *BufRing) mapAt(fd int, off int64, size uintptr) error {
	mem, e := b.r.k.mmap(fd, off, size)
	if e != 0 {
		return os.NewSyscallError("mmap", e)
	}
	b.mem, b.memLen = mem, size
	return nil
}

// Group returns the buffer group ID.
func (b *BufRing) Group() uint16 { return b.group }

// Entries returns the number of slots.
func (b *BufRing) Entries() int { return int(b.mask) + 1 }

// Mask returns Entries()-1, the mask that turns a position into a slot.
func (b *BufRing) Mask() uint16 { return b.mask }

// Add writes buf, with buffer ID bid, into the slot offset places past the
// tail, without publishing it: call Advance once for a batch. buf stays in
// the caller's custody (referenced, unmoved) until the kernel hands it back
// in a CQE, or the ring is freed.
func (b *BufRing) Add(buf []byte, bid uint16, offset int) {
	e := &b.entries[(b.tail+uint16(offset))&b.mask]
	// Plain stores: the kernel reads slots past the tail only after the
	// tail store in Advance, which orders these before it.
	e.Addr = addrOf(buf)
	e.Len = uint32(len(buf))
	e.Bid = bid
}

// Advance publishes n slots written by Add.
func (b *BufRing) Advance(n int) {
	b.tail += uint16(n)
	// Go has no 16-bit atomics, so store the 32-bit word holding the tail
	// (the last two bytes of slot 0) and slot 0's buffer ID, which only the
	// application writes and which is rewritten with its current value.
	var w [4]byte
	binary.NativeEndian.PutUint16(w[0:], b.entries[0].Bid)
	binary.NativeEndian.PutUint16(w[2:], b.tail)
	// SAFETY: offset 12 of slot 0 is 4-byte aligned inside the mapping.
	tail := (*atomic.Uint32)(unsafe.Add(b.mem, unsafe.Offsetof(BufRingEntry{}.Bid)))
	// store-release: publishes the slots written before it; pairs with the
	// kernel's load-acquire of the ring tail.
	tail.Store(binary.NativeEndian.Uint32(w[:]))
}

// probeBufGroup is the group ID SupportsIncBufRing registers for a moment.
const probeBufGroup = 0xffff

// SupportsIncBufRing reports whether the kernel consumes provided buffer rings
// incrementally (BufRingInc, Linux 6.12). It registers a one-entry ring with the
// flag as group 0xffff and frees it at once, so it answers false (as for a kernel
// that refuses the flag) while that group ID is taken.
func (r *Ring) SupportsIncBufRing() bool {
	b, err := r.SetupBufRing(1, probeBufGroup, BufRingInc)
	if err != nil {
		return false
	}
	_ = b.Free()
	return true
}

// Free unregisters the group and unmaps the ring. Operations still using the
// group must have completed. A second Free returns nil.
func (b *BufRing) Free() error {
	if b.mem == nil {
		return nil
	}
	err := b.unregister()
	b.release()
	bufs := b.r.bufs
	for i, x := range bufs {
		if x == b {
			b.r.bufs = append(bufs[:i], bufs[i+1:]...)
			break
		}
	}
	return err
}

func (b *BufRing) unregister() error {
	reg := BufReg{Bgid: b.group}
	// SAFETY: reg is live for the call.
	_, err := b.r.registerErr(UnregisterPbufRing, unsafe.Pointer(&reg), 1)
	return err
}

// release unmaps the ring memory.
func (b *BufRing) release() {
	b.entries = nil
	if b.mem != nil {
		b.r.k.munmap(b.mem, b.memLen)
		b.mem = nil
	}
}

package uring

import (
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/zokio/zokio/poller"
)

// NextSQE returns the next free SQE, zeroed, or nil when the SQ is full or
// the ring is closed. It never submits: a caller that gets nil calls Submit
// (and, with SetupSQPoll, WaitSQSpace) and tries again. The SQE belongs to
// the caller until the next Submit or SubmitAndWait.
func (r *Ring) NextSQE() *SQE {
	sq := &r.sq
	if r.closed {
		return nil
	}
	// load-acquire: pairs with the kernel's store-release of the SQ head
	// once it has finished reading the SQEs before it, so the slot we hand
	// out is no longer being read.
	head := sq.khead.Load()
	if sq.tail-head >= sq.entries {
		return nil
	}
	s := &sq.sqes[sq.tail&sq.mask]
	sq.tail++
	*s = SQE{}
	return s
}

// SQSpace returns how many SQEs NextSQE can still hand out before a submit
// frees room.
func (r *Ring) SQSpace() uint32 {
	if r.closed {
		return 0
	}
	// load-acquire: pairs with the kernel's store-release of the SQ head.
	return r.sq.entries - (r.sq.tail - r.sq.khead.Load())
}

// Pending returns how many SQEs were handed out by NextSQE and not yet
// consumed by the kernel: those not submitted, and those a short submit
// left in the ring (the next Submit passes them on). With SetupSQPoll the
// count falls on its own as the SQ thread consumes.
func (r *Ring) Pending() uint32 {
	if r.closed {
		return 0
	}
	// load-acquire: pairs with the kernel's store-release of the SQ head.
	return r.sq.tail - r.sq.khead.Load()
}

// Reserve reports whether n more SQEs fit in the SQ now. A caller about to
// prepare a linked chain of n SQEs checks it first and, on false, submits
// (and reaps) before starting the chain, so that a chain is never split
// across two submissions: the kernel would start the first half unlinked.
func (r *Ring) Reserve(n uint32) bool { return r.SQSpace() >= n }

// SetUserData sets the value the kernel returns in the CQE. It is opaque to
// this package.
func (s *SQE) SetUserData(v uint64) { s.UserData = v }

// SetFlags adds f to the SQE's flags, keeping those already set (some Prep
// methods set SQEBufferSelect). Call it after the Prep method, which starts
// from no flags.
func (s *SQE) SetFlags(f SQEFlags) { s.Flags |= f }

// SetBufGroup sets the provided buffer group used with SQEBufferSelect.
func (s *SQE) SetBufGroup(group uint16) { s.BufIndex = group }

// SetIoprio sets the ioprio field: an I/O priority for reads and writes, or
// AcceptFlags / RecvSendFlags for socket operations (Prep methods that need
// those set them).
func (s *SQE) SetIoprio(v uint16) { s.Ioprio = v }

// prep resets every field but UserData (so SetUserData may come before or
// after Prep) and sets the common ones, as liburing's io_uring_prep_rw does.
func (s *SQE) prep(op Opcode, fd int, addr uint64, n uint32, off uint64) {
	*s = SQE{Opcode: op, Fd: int32(fd), Addr: addr, Len: n, Off: off, UserData: s.UserData}
}

// addrOf returns the address of b's first byte, 0 for a nil slice.
func addrOf(b []byte) uint64 {
	// SAFETY: the address is stored as an integer in an SQE; the caller
	// keeps b alive and unmoved until the operation's final CQE (see the
	// package comment on memory custody).
	return uint64(uintptr(unsafe.Pointer(unsafe.SliceData(b))))
}

// bufLen is the length a Prep method puts in the SQE for buf: len(buf), but at most
// poller.MaxRW (Linux's MAX_RW_COUNT, the most one read or write moves, and within the
// CQE's int32 result). A longer buffer thus gets a short transfer, reported in Res like
// any other, instead of a length cut to 32 bits (4 GiB + 16 bytes would be 16).
func bufLen(buf []byte) uint32 { return uint32(min(len(buf), poller.MaxRW)) }

// ptr returns p's address as an SQE field value.
func ptr[T any](p *T) uint64 {
	// SAFETY: as for addrOf, the caller keeps *p alive until the final CQE.
	return uint64(uintptr(unsafe.Pointer(p)))
}

// PrepNop prepares an operation that does nothing and completes with 0.
func (s *SQE) PrepNop() { s.prep(OpNop, -1, 0, 0, 0) }

// PrepRead prepares read(2) of len(buf) bytes at off (^uint64(0): the file
// position). buf stays in the caller's custody until the CQE.
func (s *SQE) PrepRead(fd int, buf []byte, off uint64) {
	s.prep(OpRead, fd, addrOf(buf), bufLen(buf), off)
}

// PrepWrite prepares write(2) of buf at off (^uint64(0): the file position).
func (s *SQE) PrepWrite(fd int, buf []byte, off uint64) {
	s.prep(OpWrite, fd, addrOf(buf), bufLen(buf), off)
}

// PrepReadv prepares preadv(2). The iovec array and every buffer it names
// stay in the caller's custody until the CQE.
func (s *SQE) PrepReadv(fd int, iov []unix.Iovec, off uint64) {
	s.prep(OpReadv, fd, ptr(unsafe.SliceData(iov)), uint32(len(iov)), off)
}

// PrepWritev prepares pwritev(2).
func (s *SQE) PrepWritev(fd int, iov []unix.Iovec, off uint64) {
	s.prep(OpWritev, fd, ptr(unsafe.SliceData(iov)), uint32(len(iov)), off)
}

// PrepReadFixed prepares a read into registered buffer bufIndex; buf must
// lie inside that buffer.
func (s *SQE) PrepReadFixed(fd int, buf []byte, off uint64, bufIndex uint16) {
	s.prep(OpReadFixed, fd, addrOf(buf), bufLen(buf), off)
	s.BufIndex = bufIndex
}

// PrepWriteFixed prepares a write from registered buffer bufIndex; buf must
// lie inside that buffer.
func (s *SQE) PrepWriteFixed(fd int, buf []byte, off uint64, bufIndex uint16) {
	s.prep(OpWriteFixed, fd, addrOf(buf), bufLen(buf), off)
	s.BufIndex = bufIndex
}

// PrepFsync prepares fsync(2), or fdatasync(2) with FsyncDatasync.
func (s *SQE) PrepFsync(fd int, f FsyncFlags) {
	s.prep(OpFsync, fd, 0, 0, 0)
	s.OpFlags = uint32(f)
}

// PrepFallocate prepares fallocate(2). The kernel takes the mode in Len and
// the length in Addr.
func (s *SQE) PrepFallocate(fd int, mode uint32, off, length uint64) {
	s.prep(OpFallocate, fd, length, mode, off)
}

// PrepOpenat prepares openat(2); path is a NUL-terminated string (see
// unix.BytePtrFromString) that stays alive until the CQE, whose Res is the
// new fd.
func (s *SQE) PrepOpenat(dirfd int, path *byte, flags int, mode uint32) {
	s.prep(OpOpenat, dirfd, ptr(path), mode, 0)
	s.OpFlags = uint32(flags)
}

// PrepClose prepares close(2). Operations in flight on fd are not
// cancelled by it (cancel them first, see PrepCancelFd).
func (s *SQE) PrepClose(fd int) { s.prep(OpClose, fd, 0, 0, 0) }

// PrepCloseFixed prepares closing registered file slot.
func (s *SQE) PrepCloseFixed(slot uint32) {
	s.prep(OpClose, 0, 0, 0, 0)
	s.FileIndex = slot + 1 // the kernel counts slots from 1 here; 0 means "not direct"
}

// PrepStatx prepares statx(2) into st, which stays alive until the CQE.
func (s *SQE) PrepStatx(dirfd int, path *byte, flags int, mask uint32, st *unix.Statx_t) {
	s.prep(OpStatx, dirfd, ptr(path), mask, ptr(st))
	s.OpFlags = uint32(flags)
}

// PrepUnlinkat prepares unlinkat(2) (unix.AT_REMOVEDIR removes a directory).
func (s *SQE) PrepUnlinkat(dirfd int, path *byte, flags int) {
	s.prep(OpUnlinkat, dirfd, ptr(path), 0, 0)
	s.OpFlags = uint32(flags)
}

// PrepRenameat prepares renameat2(2). The kernel takes the new directory
// fd in Len and the new path in Off.
func (s *SQE) PrepRenameat(olddir int, oldpath *byte, newdir int, newpath *byte, flags uint32) {
	s.prep(OpRenameat, olddir, ptr(oldpath), uint32(newdir), ptr(newpath))
	s.OpFlags = flags
}

// PrepMkdirat prepares mkdirat(2).
func (s *SQE) PrepMkdirat(dirfd int, path *byte, mode uint32) {
	s.prep(OpMkdirat, dirfd, ptr(path), mode, 0)
}

// PrepFtruncate prepares ftruncate(2).
func (s *SQE) PrepFtruncate(fd int, length int64) {
	s.prep(OpFtruncate, fd, 0, 0, uint64(length))
}

package faultdriver

import (
	"math/rand/v2"
	"syscall"

	"github.com/zokio/zokio/poller"
)

// fdKind classifies a descriptor for the faults that depend on it.
type fdKind int

const (
	fdOther  fdKind = iota // special files, datagram sockets, O_DIRECT files: never shortened
	fdStream               // a stream socket or a pipe
	fdFile                 // a regular file without O_DIRECT
)

// errnoFor picks the error an op may complete with without having run: ENOBUFS for a
// receive from a buffer group, EAGAIN or EINTR for I/O on a stream, else none.
func errnoFor(op *poller.Op) syscall.Errno {
	if op.Flags&poller.FlagFixedFile != 0 {
		return 0
	}
	switch op.Code {
	case poller.OpRecv:
		if op.Flags&poller.FlagBufferSelect != 0 {
			return syscall.ENOBUFS
		}
	case poller.OpSend, poller.OpRead, poller.OpWrite:
	default:
		return 0
	}
	if kindOf(op.Fd) != fdStream {
		return 0
	}
	if op.Code == poller.OpRecv || op.Code == poller.OpSend {
		return syscall.EAGAIN
	}
	return syscall.EINTR
}

// shorten gives op a shorter buffer, so that the kernel really moves fewer bytes. It
// reports whether it did.
func shorten(op *poller.Op, rng *rand.Rand) bool {
	if op.Flags&(poller.FlagFixedFile|poller.FlagBufferSelect) != 0 {
		return false
	}
	switch op.Code {
	case poller.OpRead, poller.OpWrite, poller.OpRecv, poller.OpSend, poller.OpSendZC:
		if len(op.Buf) < 2 || kindOf(op.Fd) == fdOther {
			return false
		}
		op.Buf = op.Buf[:1+rng.IntN(len(op.Buf)-1)]
		return true
	case poller.OpReadv, poller.OpWritev:
		total := 0
		for _, b := range op.Bufs {
			total += len(b)
		}
		if total < 2 || kindOf(op.Fd) == fdOther {
			return false
		}
		left := 1 + rng.IntN(total-1)
		var bufs [][]byte
		for _, b := range op.Bufs {
			if left == 0 {
				break
			}
			n := min(len(b), left)
			bufs = append(bufs, b[:n])
			left -= n
		}
		op.Bufs = bufs
		return true
	}
	return false
}

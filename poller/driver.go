package poller

import (
	"strings"
	"time"
)

// Driver is the contract every I/O backend implements: io_uring (package uring), epoll
// (this package), kqueue and IOCP. See the package documentation for the promises behind
// each method, and package pollertest for the suite that checks them.
//
// A Driver is used only by the goroutine that created it, except Wake, which is safe for
// concurrent use by multiple goroutines.
type Driver interface {
	// Submit queues op. It returns nil if op was accepted, in which case op completes
	// exactly once (or, if multishot, ends with exactly one final completion) from a
	// later Wait or from Close. It returns an error, and op never completes, when op is
	// invalid, already in flight, unsupported by the driver, or the driver is closed.
	// Submission reaches the kernel no later than the next Wait (with FlagSubmitNow,
	// before Submit returns).
	Submit(op *Op) error

	// Cancel asks the driver to cancel op, which must be in flight. Op still completes
	// exactly once: with ECANCELED, or with its real result if that won the race.
	// Cancel returns ErrNotInFlight if op is idle.
	Cancel(op *Op) error

	// Wait flushes queued submissions, waits until at least one completion is ready,
	// Wake is called, or timeout passes (timeout < 0 waits without limit; 0 does not
	// block), then calls Done for the ready completions, a bounded batch at a time so
	// that one busy source cannot starve the rest. It returns the number of completions
	// delivered. Interrupted system calls are retried, never reported.
	Wait(timeout time.Duration) (int, error)

	// Wake makes a concurrent Wait return, or the next one return at once. Wakes are
	// coalesced and never lost. Safe for concurrent use.
	Wake() error

	// Close completes every op still in flight (their Done functions run inside Close),
	// with ECANCELED or with the real result where that won the race, waiting for ops
	// already running in the kernel or a worker; then it releases the driver's
	// resources. Later calls return ErrClosed.
	Close() error

	// NewBufferGroup creates a group of count buffers of size bytes each, from which
	// OpRecv with FlagBufferSelect picks. Count must be a power of two up to 32768.
	NewBufferGroup(count, size int) (BufferGroup, error)

	// Info describes the driver: its name and the capabilities it has.
	Info() Info
}

// BufferGroup is a set of equal-sized buffers that the driver hands to OpRecv ops with
// FlagBufferSelect. Its memory lies outside the Go heap where the platform allows.
// A BufferGroup is used only by the goroutine that owns its driver.
//
// Each completion that carries a buffer (ResBuffer) hands the reader one piece: Res
// bytes at Op.BufOff in buffer Op.BufID (Op.Received). A driver may fill a buffer a
// part at a time (io_uring's incremental consumption), so that several completions,
// of one op or of several, name the same buffer at increasing offsets; others use a
// whole buffer per completion (BufOff 0). Either way the reader releases every piece
// it was handed, once, and the buffer goes back to the group when the driver is done
// filling it and every piece of it has been released.
type BufferGroup interface {
	// ID is the value to put in Op.Group.
	ID() uint16
	// Bytes returns buffer id's memory, all of it. A piece's view is valid until it is
	// released.
	Bytes(id uint16) []byte
	// Release gives back one piece of buffer id, as handed out by a completion.
	// Releasing more pieces than were handed out does nothing.
	Release(id uint16)
	// Size and Count describe the group.
	Size() int
	Count() int
}

// Info describes a driver.
type Info struct {
	Name     string   // "uring", "epoll", "kqueue", "iocp"
	Features Features // capabilities
}

// Features is a set of driver capabilities. The conformance suite skips a scenario only
// when the driver lacks a capability named here.
type Features uint32

const (
	// FeatNativeCompletion: the kernel completes ops itself (io_uring, IOCP); no
	// readiness emulation.
	FeatNativeCompletion Features = 1 << iota
	// FeatAsyncFileIO: file ops complete without blocking an OS thread per op.
	FeatAsyncFileIO
	// FeatFixedFiles: FlagFixedFile and a registered file table.
	FeatFixedFiles
	// FeatFixedBuffers: FlagFixedBuffer and registered buffers.
	FeatFixedBuffers
	// FeatSendZC: OpSendZC sends without copying.
	FeatSendZC
	// FeatBufferRing: buffer groups are kernel-provided buffer rings.
	FeatBufferRing
	// FeatSQPoll: a kernel thread polls the submission queue.
	FeatSQPoll
	// FeatMsgRing: completions can be posted from one driver to another in the kernel.
	FeatMsgRing
	// FeatIncrementalBuffers: buffer groups are consumed a piece at a time (io_uring's
	// IOU_PBUF_RING_INC, Linux 6.12): a receive takes only the bytes that arrived from
	// the current buffer and the next continues after them, so one buffer serves many
	// receives and Op.BufOff says where a completion's piece starts. Without it every
	// completion takes a whole buffer.
	FeatIncrementalBuffers
	// FeatSplice: OpSplice moves bytes between a pipe and another descriptor in the
	// kernel (Linux's splice: io_uring and epoll). Elsewhere callers copy in user space.
	FeatSplice
	featEnd
)

var featureNames = [...]string{
	"native-completion", "async-file-io", "fixed-files", "fixed-buffers",
	"send-zc", "buffer-ring", "sqpoll", "msg-ring", "incremental-buffers", "splice",
}

// Has reports whether every feature in want is present in f.
func (f Features) Has(want Features) bool { return f&want == want }

// String lists the features by name, separated by '|'.
func (f Features) String() string {
	var b strings.Builder
	for i := range featureNames {
		if f&(1<<i) != 0 {
			if b.Len() > 0 {
				b.WriteByte('|')
			}
			b.WriteString(featureNames[i])
		}
	}
	if b.Len() == 0 {
		return "none"
	}
	return b.String()
}

package poller

import (
	"strconv"
	"sync/atomic"
	"syscall"
	"time"
)

// Opcode names an operation. The set is the same for every driver: a driver that has no
// native form of one emulates it, or refuses it with an error wrapping
// errors.ErrUnsupported when [Features] says it lacks the capability.
//
// The comment on each constant lists the [Op] fields it reads. Integer arguments (open
// flags, message flags, path-op flags, poll events) are written with poller's portable
// names (OpenCreate, MsgWaitAll, AtRemoveDir, PollIn, ...; see args.go), which mean the
// same on every driver and on Linux equal the kernel's constants.
type Opcode uint8

// The opcodes. The zero Opcode is invalid, so an Op left zero is refused.
const (
	OpNop       Opcode = iota + 1 // nothing; Res 0
	OpRead                        // Fd, Buf (non-empty), Offset (-1: the file position) → bytes read
	OpWrite                       // Fd, Buf, Offset (-1: the file position) → bytes written
	OpReadv                       // Fd, Bufs (non-empty), Offset → bytes read
	OpWritev                      // Fd, Bufs, Offset → bytes written
	OpFsync                       // Fd, Arg (FsyncDatasync or 0)
	OpFallocate                   // Fd, Arg (Falloc* mode), Offset, Len
	OpFtruncate                   // Fd, Len
	OpOpenat                      // Fd (dir fd or AtFDCWD), Path, Arg (Open* flags), Mode (perm) → new fd
	OpClose                       // Fd; drains the driver's ops on Fd first
	OpStatx                       // Fd (dir fd), Path, Arg (At* flags), Mode (Statx* mask), Buf (≥ StatxSize, 8-aligned: Statx.Bytes) ← Statx
	OpUnlinkat                    // Fd (dir fd), Path, Arg (AtRemoveDir or 0)
	OpRenameat                    // Fd, Path (old), Fd2, Path2 (new), Arg (Rename* flags)
	OpMkdirat                     // Fd (dir fd), Path, Mode
	OpAccept                      // Fd, Arg (Sock* flags), Addr (optional; nil with FlagMultishot) → new fd
	OpConnect                     // Fd, Addr
	OpRecv                        // Fd, Buf (non-empty) or FlagBufferSelect with Group, Arg (Msg* flags) → bytes
	OpSend                        // Fd, Buf, Arg (Msg* flags) → bytes
	OpSendZC                      // as OpSend, without copying; a second, final completion has ResNotif
	OpSendmsg                     // Fd, Bufs, Addr (optional), Control (optional), Arg (Msg* flags) → bytes
	OpRecvmsg                     // Fd, Bufs, Addr (optional, written), Control (optional, written), Arg → bytes
	OpShutdown                    // Fd, Arg (ShutRd, ShutWr or ShutRdWr)
	OpPoll                        // Fd, Arg (Poll* events) → revents; FlagMultishot repeats
	OpTimeout                     // Timeout; completes with ETIME when it expires
	OpSplice                      // Fd (from), Fd2 (to), Offset (Fd's offset; -1: none), Len (1..MaxRW), Arg (SpliceMore or 0) → bytes moved; see below
	opcodeEnd
)

var opcodeNames = [...]string{
	OpNop: "nop", OpRead: "read", OpWrite: "write", OpReadv: "readv", OpWritev: "writev",
	OpFsync: "fsync", OpFallocate: "fallocate", OpFtruncate: "ftruncate", OpOpenat: "openat",
	OpClose: "close", OpStatx: "statx", OpUnlinkat: "unlinkat", OpRenameat: "renameat",
	OpMkdirat: "mkdirat", OpAccept: "accept", OpConnect: "connect", OpRecv: "recv",
	OpSend: "send", OpSendZC: "send_zc", OpSendmsg: "sendmsg", OpRecvmsg: "recvmsg",
	OpShutdown: "shutdown", OpPoll: "poll", OpTimeout: "timeout", OpSplice: "splice",
}

// OpSplice moves up to Len bytes from Fd to Fd2 inside the kernel, as splice(2): one
// of the two must be a pipe, the other may be a socket, a pipe or (as the source) a
// regular file read at Offset (-1: at and advancing its file position; a pipe or
// socket takes -1). It completes with the bytes moved, 0 at the end of Fd's data, or
// an error; like a read it may move fewer bytes than asked. Only drivers with
// FeatSplice take it; the others refuse it with an *UnsupportedError.
//
// On io_uring the kernel waits for whichever end is not ready. A readiness driver
// waits for the end that is not a pipe (Fd readable when Fd2 is a pipe, otherwise Fd2
// writable), so the caller keeps the pipe end ready: it splices into a pipe with room
// for Len bytes, and out of a pipe that holds data. An op whose pipe end is not ready
// there fails with EAGAIN instead of waiting. A regular file end makes the op a file
// op (the worker pool), as OpRead of a file is.

// SpliceMore in OpSplice's Arg says more data will follow (SPLICE_F_MORE), as MSG_MORE
// does for a send.
const SpliceMore = 4

// String returns the opcode's lower-case name, as the syscall it stands for.
func (c Opcode) String() string {
	if c > 0 && c < opcodeEnd {
		return opcodeNames[c]
	}
	return "opcode(" + strconv.Itoa(int(c)) + ")"
}

// Valid reports whether c is one of the defined opcodes.
func (c Opcode) Valid() bool { return c > 0 && c < opcodeEnd }

// IsFileOp reports whether c works on files or paths, the ops that readiness drivers run
// on their worker pool because the kernel offers no readiness for them.
func (c Opcode) IsFileOp() bool {
	switch c {
	case OpFsync, OpFallocate, OpFtruncate, OpOpenat, OpStatx, OpUnlinkat, OpRenameat, OpMkdirat:
		return true
	}
	return false
}

// OpFlags modify how an op is submitted.
type OpFlags uint16

const (
	// FlagLink links the op to the next one submitted: the next starts only after this
	// one succeeds, and completes with ECANCELED if this one fails or is short. A chain
	// ends at the first op without FlagLink and must be submitted without a Wait between
	// its ops. Drivers never split a chain.
	FlagLink OpFlags = 1 << iota
	// FlagMultishot keeps OpAccept, OpRecv (with FlagBufferSelect) and OpPoll armed:
	// each result is reported with ResMore until the final one.
	FlagMultishot
	// FlagBufferSelect makes OpRecv pick its buffer from buffer group Group; the result
	// names it in BufID and BufOff (see Op.Received). The reader returns each such
	// completion's piece with BufferGroup.Release. A Group that names no group of the
	// driver is a programming error: every driver's Submit refuses the op with an
	// *InvalidOpError. A group that exists but has no free buffer is not: the receive
	// then completes with ENOBUFS.
	FlagBufferSelect
	// FlagFixedFile says Fd is an index into the driver's registered file table.
	// Backends: uring.
	FlagFixedFile
	// FlagFixedBuffer says Buf lies inside registered buffer BufIndex: for OpRead,
	// OpWrite and OpSendZC (the kernel takes none for a plain send). For OpSendZC it
	// spares the kernel pinning the pages per send. Backends: uring.
	FlagFixedBuffer
	// FlagAsync hints that the op will block, so a completion engine should not try it
	// inline first. Backends: uring (IOSQE_ASYNC); ignored elsewhere.
	FlagAsync
	// FlagSubmitNow makes Submit hand the op, and every op queued before it, to the
	// kernel before it returns, instead of at the next Wait: one io_uring_enter per
	// such Submit (with an SQ thread, only when it sleeps and needs waking). On a link
	// chain it takes effect when the chain ends: set on any member, the whole chain
	// goes out at the Submit of its last op. Ops that do not fit a full submission
	// queue, or that the kernel refuses for now (EBUSY), wait for the next Wait as
	// usual.
	//
	// The trade: an enter per op, so more system calls and CPU per op, for a device
	// that sees each request as soon as it is issued. Some devices complete a plugged
	// batch in lockstep (a virtio disk here: one enter for 32 reaped-and-resubmitted
	// reads ran 60–66k IOPS, one enter per read 68–71k), idling between batches; on
	// those, submitting each op at once keeps the device busy. Off by default.
	//
	// Backends: uring. Readiness drivers (epoll, kqueue) ignore it: they start every
	// op inside Submit already (the syscall is tried, readiness armed, or the file op
	// handed to a worker), so there is no queue to flush.
	FlagSubmitNow
	flagsEnd
)

// flagsAll is every defined flag; Validate refuses the other bits.
const flagsAll = flagsEnd - 1

// ResultFlags describe a completion.
type ResultFlags uint8

const (
	// ResMore says more completions of this op will follow; the op is still in flight.
	ResMore ResultFlags = 1 << iota
	// ResBuffer says BufID names a buffer of the op's group that holds the data.
	ResBuffer
	// ResNotif marks OpSendZC's final completion: the kernel no longer reads the buffer.
	ResNotif
)

// FsyncDatasync in OpFsync's Arg asks for fdatasync semantics.
const FsyncDatasync = 1

// MaxRW is the most bytes one op may read, write, send or receive: the total of Buf,
// or of Bufs. Res is an int32, so no driver could report more, and Linux moves at most
// this much per read or write system call anyway (its MAX_RW_COUNT, INT_MAX rounded
// down to a page). Validate refuses a longer buffer instead of truncating its length;
// callers split larger transfers, as os and net do (1 GiB a call).
const MaxRW = 0x7ffff000

// MaxBufs is the most buffers one op's Bufs may hold: the iovec limit of Linux's readv,
// writev, sendmsg and recvmsg (UIO_MAXIOV) and of the BSDs (IOV_MAX). Validate refuses
// more, so every driver fails such an op alike, whether or not it would pass empty
// buffers on to the kernel.
const MaxBufs = 1024

// StatxSize is the smallest Buf that OpStatx accepts: the size of [Statx], Linux's
// struct statx.
const StatxSize = 256

// Sockaddr is a socket address in the kernel's raw form (struct sockaddr_storage) with
// its length. Ops write into it (accept, recvmsg) or read it (connect, sendmsg).
type Sockaddr struct {
	_   [0]uint64 // 8-byte alignment, so Raw may be viewed as any sockaddr type
	Raw [128]byte
	Len uint32
}

// Op is one operation: its arguments, its completion callback and, once completed, its
// result. An Op may be embedded in a larger struct and reused after its final
// completion, so that steady state allocates nothing.
//
// States: idle (Ref == 0) → in flight (after Submit returns nil; the driver owns it) →
// idle again when Done is called for the final completion. While in flight the caller
// must not change any field. Done runs on the goroutine that calls Driver.Wait; it may
// submit ops (including this one, once its final completion arrived) and cancel ops, but
// must not call Wait.
type Op struct {
	Code     Opcode
	Flags    OpFlags
	Group    uint16 // buffer group for FlagBufferSelect
	BufIndex uint16 // registered buffer for FlagFixedBuffer
	Arg      uint32 // the opcode's integer argument (see the Opcode constants)
	Mode     uint32 // permission bits, or the statx mask
	Fd       int
	Fd2      int // OpRenameat's new directory
	Offset   int64
	Len      int64 // fallocate and ftruncate length; after OpRecvmsg, the control bytes received
	Buf      []byte
	Bufs     [][]byte
	Path     string
	Path2    string
	Addr     *Sockaddr
	Control  []byte

	// Timeout, for OpTimeout, is the timer's duration. For other ops a positive Timeout
	// bounds the op: if it has not completed in time it is cancelled and completes with
	// ETIME, unless its real result arrived first. The clock starts when the op starts:
	// for the last op of a link chain, when its predecessor succeeded. It cannot be
	// combined with FlagLink or FlagMultishot.
	Timeout time.Duration

	// Done is called once per completion, on the goroutine that calls Wait. It must be
	// set before Submit.
	Done func(op *Op)

	// Res is the result of the latest completion: a count, a new descriptor, or a
	// negated errno.
	Res int32
	// Result describes the latest completion.
	Result ResultFlags
	// BufID names the selected buffer when Result has ResBuffer.
	BufID uint16
	// MsgFlags holds the msg_flags of an OpRecvmsg result (MsgTrunc, MsgCtrunc).
	MsgFlags int32
	// BufOff is where in buffer BufID the data starts when Result has ResBuffer: 0
	// unless the driver consumes buffers a part at a time (see BufferGroup).
	BufOff uint32

	// Ref is the driver's bookkeeping while the op is in flight (slot and generation);
	// zero when the op is idle. Only drivers set it.
	Ref uint64

	// claim is Claim's word: 1 while one caller outside the driver's goroutine owns
	// the op. Only Claim and Unclaim touch it, atomically.
	claim uint32
}

// Claim marks op as taken by one caller that hands it to a driver's goroutine from
// another goroutine (runtime's Loop.Do does), so that a second caller offering the
// same op at the same time is refused without a field of the op being touched. It
// reports whether this call took the claim. Drivers neither set nor check it. Safe for
// concurrent use by multiple goroutines.
func (op *Op) Claim() bool {
	// CAS 0→1 pairs with Unclaim's store: what the previous holder did to the op
	// happens before the next holder's successful Claim.
	return atomic.CompareAndSwapUint32(&op.claim, 0, 1)
}

// Unclaim ends the claim Claim took. Only the claim's holder calls it, once it no
// longer touches the op.
func (op *Op) Unclaim() { atomic.StoreUint32(&op.claim, 0) }

// Err returns the error of the latest completion, or nil when Res is not negative. The
// error is a syscall.Errno, so errors.Is(err, syscall.ECANCELED) and the like work.
func (op *Op) Err() error {
	if op.Res >= 0 {
		return nil
	}
	return syscall.Errno(-op.Res)
}

// Received returns the bytes the latest completion received into a buffer of g (the
// op's group): Res bytes at BufOff in buffer BufID. It returns nil when the completion
// carries no buffer. The view is valid until that piece is released (g.Release(BufID)).
func (op *Op) Received(g BufferGroup) []byte {
	if op.Result&ResBuffer == 0 || op.Res <= 0 {
		return nil
	}
	b := g.Bytes(op.BufID)
	end := int(op.BufOff) + int(op.Res)
	if b == nil || end > len(b) {
		return nil
	}
	return b[op.BufOff:end:end]
}

// More reports whether further completions of op will follow.
func (op *Op) More() bool { return op.Result&ResMore != 0 }

// InFlight reports whether op has been submitted and has not had its final completion.
func (op *Op) InFlight() bool { return op.Ref != 0 }

// Complete records a completion and calls Done. Drivers call it; it is exported so that
// drivers in other packages share one definition of what a completion does.
func (op *Op) Complete(res int32, flags ResultFlags, bufID uint16) {
	op.Res, op.Result, op.BufID = res, flags, bufID
	if flags&ResMore == 0 {
		op.Ref = 0
	}
	op.Done(op)
}

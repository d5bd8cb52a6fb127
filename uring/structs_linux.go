package uring

import "time"

// Structures shared with the kernel. Field order, sizes and padding follow
// include/uapi/linux/io_uring.h exactly; abi_linux_test.go checks every size
// and offset. Kernel unions are flattened to one field named after their
// most common member; the Prep methods say which member they mean.

// SQE is a submission queue entry (struct io_uring_sqe, 64 bytes). The
// kernel reads it from shared memory: fill it between NextSQE and Submit,
// and do not touch it after.
type SQE struct {
	Opcode Opcode   // operation
	Flags  SQEFlags // IOSQE_* flags
	Ioprio uint16   // ioprio, or AcceptFlags, RecvSendFlags for socket operations
	Fd     int32    // file descriptor, or registered file index with SQEFixedFile
	// Off is the file offset; also addr2 (a second address) or cmd_op.
	Off uint64
	// Addr is the buffer, iovec array or argument address; also
	// splice_off_in, or level and optname for socket commands.
	Addr uint64
	Len  uint32 // buffer length, iovec count or operation-specific count
	// OpFlags is the per-opcode flags union: rw_flags, fsync_flags,
	// poll32_events, msg_flags, timeout_flags, accept_flags, cancel_flags,
	// open_flags, statx_flags, rename_flags, unlink_flags, msg_ring_flags...
	OpFlags  uint32
	UserData uint64 // returned untouched in the CQE
	// BufIndex is a registered buffer index, or buf_group with
	// SQEBufferSelect.
	BufIndex    uint16
	Personality uint16 // registered credentials to use, 0 for the caller's
	// FileIndex is file_index (1-based registered slot for ops that create
	// files), splice_fd_in, addr_len in its low 16 bits, or optlen.
	FileIndex uint32
	Addr3     uint64 // third address (e.g. SendZC destination), or optval
	_         uint64 // __pad2; with SetupSQE128 the command area starts at Addr3
}

// CQE is a completion queue entry (struct io_uring_cqe, 16 bytes).
type CQE struct {
	UserData uint64   // the SQE's UserData
	Res      int32    // result: >= 0 on success, -errno on failure
	Flags    CQEFlags // IORING_CQE_F_* and, with CQEFlagBuffer, a buffer ID
}

// SQRingOffsets locates the SQ ring fields in the ring mapping
// (struct io_sqring_offsets).
type SQRingOffsets struct {
	Head        uint32
	Tail        uint32
	RingMask    uint32
	RingEntries uint32
	Flags       uint32
	Dropped     uint32
	Array       uint32
	Resv1       uint32
	UserAddr    uint64 // ring memory address with SetupNoMmap
}

// CQRingOffsets locates the CQ ring fields in the ring mapping
// (struct io_cqring_offsets).
type CQRingOffsets struct {
	Head        uint32
	Tail        uint32
	RingMask    uint32
	RingEntries uint32
	Overflow    uint32
	CQEs        uint32
	Flags       uint32
	Resv1       uint32
	UserAddr    uint64 // ring memory address with SetupNoMmap
}

// Params is struct io_uring_params: New fills the request half, the kernel
// writes back the sizes, features and ring offsets.
type Params struct {
	SQEntries    uint32
	CQEntries    uint32
	Flags        SetupFlags
	SQThreadCPU  uint32
	SQThreadIdle uint32 // milliseconds
	Features     FeatureFlags
	WQFd         uint32
	Resv         [3]uint32
	SQOff        SQRingOffsets
	CQOff        CQRingOffsets
}

// ProbeOp is one opcode's entry in a Probe (struct io_uring_probe_op).
type ProbeOp struct {
	Op    Opcode
	Resv  uint8
	Flags uint16 // bit 0: supported
	Resv2 uint32
}

// probeOpsMax is the size of the ops array the kernel may fill: opcodes are
// 8 bits wide.
const probeOpsMax = 256

// Probe reports which opcodes the running kernel supports (struct
// io_uring_probe followed by its ops array).
type Probe struct {
	LastOp Opcode // highest opcode the kernel knows
	OpsLen uint8  // entries the kernel filled in Ops
	Resv   uint16
	Resv2  [3]uint32
	Ops    [probeOpsMax]ProbeOp
}

// Supports reports whether the kernel implements op.
func (p *Probe) Supports(op Opcode) bool {
	if op > p.LastOp || int(op) >= int(p.OpsLen) {
		return false
	}
	return p.Ops[op].Flags&probeOpSupported != 0
}

// BufReg registers a provided buffer ring (struct io_uring_buf_reg).
type BufReg struct {
	RingAddr    uint64
	RingEntries uint32
	Bgid        uint16
	Flags       BufRingFlags
	// MinLeft is the least space an incremental buffer may keep; kernels
	// that do not know it require 0.
	MinLeft uint32
	Resv    [5]uint32
}

// BufRingEntry is one slot of a provided buffer ring (struct io_uring_buf).
// In slot 0 the kernel reads the ring tail from the last 16 bits (Resv).
type BufRingEntry struct {
	Addr uint64
	Len  uint32
	Bid  uint16
	Resv uint16 // the ring tail, in slot 0
}

// Timespec is struct __kernel_timespec: 64-bit seconds and nanoseconds on
// every architecture, unlike unix.Timespec on 32-bit systems.
type Timespec struct {
	Sec  int64
	Nsec int64
}

// NewTimespec converts a duration to a Timespec.
func NewTimespec(d time.Duration) Timespec {
	return Timespec{Sec: int64(d / time.Second), Nsec: int64(d % time.Second)}
}

// GetEventsArg is the io_uring_enter argument used with EnterExtArg
// (struct io_uring_getevents_arg).
type GetEventsArg struct {
	Sigmask     uint64 // address of a sigset_t, 0 for none
	SigmaskSz   uint32
	MinWaitUsec uint32 // with FeatMinTimeout
	TS          uint64 // address of a Timespec, 0 for no timeout
}

// RsrcRegister registers a file or buffer table (struct
// io_uring_rsrc_register), used with RegisterFiles2 and RegisterBuffers2.
type RsrcRegister struct {
	Nr    uint32
	Flags uint32
	Resv2 uint64
	Data  uint64 // address of the fd or iovec array
	Tags  uint64 // address of a uint64 tag array, or 0
}

// RsrcUpdate updates registered slots (struct io_uring_rsrc_update), used
// with RegisterFilesUpdate and RegisterRingFds.
type RsrcUpdate struct {
	Offset uint32
	Resv   uint32
	Data   uint64
}

// RsrcUpdate2 updates registered slots with tags (struct
// io_uring_rsrc_update2), used with RegisterFilesUpdate2 and
// RegisterBuffersUpdate.
type RsrcUpdate2 struct {
	Offset uint32
	Resv   uint32
	Data   uint64
	Tags   uint64
	Nr     uint32
	Resv2  uint32
}

// FileIndexRange is the argument of RegisterFileAllocRange (struct
// io_uring_file_index_range): slots [Off, Off+Len) serve FileIndexAlloc.
type FileIndexRange struct {
	Off  uint32
	Len  uint32
	Resv uint64
}

// RecvmsgOut heads every buffer filled by a multishot recvmsg (struct
// io_uring_recvmsg_out). The name, control data and payload follow it; see
// ParseRecvmsgOut.
type RecvmsgOut struct {
	NameLen    uint32 // the source address's real length (may exceed the room for it)
	ControlLen uint32 // control bytes received
	PayloadLen uint32 // payload bytes received (may exceed the room for them)
	Flags      uint32 // MSG_* flags of the message
}

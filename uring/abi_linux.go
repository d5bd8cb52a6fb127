package uring

// Kernel ABI constants, from include/uapi/linux/io_uring.h. Each flag family
// has its own type so that passing, say, an SQ ring flag where an enter flag
// is expected fails to compile.

// SetupFlags are the io_uring_setup(2) flags (io_uring_params.flags).
type SetupFlags uint32

// Setup flags.
const (
	SetupIOPoll           SetupFlags = 1 << 0  // busy-poll for completions (O_DIRECT block I/O)
	SetupSQPoll           SetupFlags = 1 << 1  // a kernel thread consumes the SQ
	SetupSQAff            SetupFlags = 1 << 2  // pin the SQ thread to Config.SQThreadCPU
	SetupCQSize           SetupFlags = 1 << 3  // Config.CQEntries sizes the CQ
	SetupClamp            SetupFlags = 1 << 4  // clamp oversized rings instead of EINVAL
	SetupAttachWQ         SetupFlags = 1 << 5  // share the async backend of Config.AttachWQ
	SetupRDisabled        SetupFlags = 1 << 6  // start disabled; see Ring.Enable
	SetupSubmitAll        SetupFlags = 1 << 7  // keep submitting after an SQE fails
	SetupCoopTaskrun      SetupFlags = 1 << 8  // run task work at the next kernel entry, no IPI
	SetupTaskrunFlag      SetupFlags = 1 << 9  // raise SQRingTaskrun when task work waits
	SetupSQE128           SetupFlags = 1 << 10 // 128-byte SQEs (not supported by this binding)
	SetupCQE32            SetupFlags = 1 << 11 // 32-byte CQEs (not supported by this binding)
	SetupSingleIssuer     SetupFlags = 1 << 12 // one task submits
	SetupDeferTaskrun     SetupFlags = 1 << 13 // run completions only when the owner waits
	SetupNoMmap           SetupFlags = 1 << 14 // application memory for rings (not supported)
	SetupRegisteredFdOnly SetupFlags = 1 << 15 // no ring fd (not supported)
	SetupNoSQArray        SetupFlags = 1 << 16 // SQ indexes SQEs directly, no index array
	SetupHybridIOPoll     SetupFlags = 1 << 17 // hybrid polling with SetupIOPoll
	SetupCQEMixed         SetupFlags = 1 << 18 // 16- and 32-byte CQEs (not supported)
	SetupSQEMixed         SetupFlags = 1 << 19 // 64- and 128-byte SQEs (not supported)
	SetupSQRewind         SetupFlags = 1 << 20 // SQ read from slot 0 every time (not supported)
)

// unsupportedSetup are the flags that change the size or placement of ring
// entries; this binding maps fixed 64-byte SQEs and 16-byte CQEs only.
const unsupportedSetup = SetupSQE128 | SetupCQE32 | SetupNoMmap |
	SetupRegisteredFdOnly | SetupCQEMixed | SetupSQEMixed | SetupSQRewind

// EnterFlags are the io_uring_enter(2) flags.
type EnterFlags uint32

// Enter flags.
const (
	EnterGetEvents      EnterFlags = 1 << 0 // wait for min_complete completions
	EnterSQWakeup       EnterFlags = 1 << 1 // wake a sleeping SQ thread
	EnterSQWait         EnterFlags = 1 << 2 // wait for SQ space (SQPOLL)
	EnterExtArg         EnterFlags = 1 << 3 // argument is a GetEventsArg
	EnterRegisteredRing EnterFlags = 1 << 4 // fd is a registered ring index
	EnterAbsTimer       EnterFlags = 1 << 5 // GetEventsArg timeout is absolute
	EnterExtArgReg      EnterFlags = 1 << 6 // argument is a registered wait region offset
	EnterNoIOWait       EnterFlags = 1 << 7 // do not account the wait as iowait
)

// SQEFlags are the per-SQE flags (io_uring_sqe.flags).
type SQEFlags uint8

// SQE flags.
const (
	SQEFixedFile      SQEFlags = 1 << 0 // Fd is an index into the registered file table
	SQEIODrain        SQEFlags = 1 << 1 // start after every earlier SQE has completed
	SQEIOLink         SQEFlags = 1 << 2 // the next SQE starts after this one succeeds
	SQEIOHardlink     SQEFlags = 1 << 3 // like SQEIOLink, but the next starts even on failure
	SQEAsync          SQEFlags = 1 << 4 // skip the inline attempt, go to the async backend
	SQEBufferSelect   SQEFlags = 1 << 5 // take a buffer from group BufIndex
	SQECQESkipSuccess SQEFlags = 1 << 6 // post no CQE when the operation succeeds
)

// CQEFlags are the completion flags (io_uring_cqe.flags). The upper 16 bits
// carry a buffer ID when CQEFlagBuffer is set.
type CQEFlags uint32

// CQE flags.
const (
	CQEFlagBuffer       CQEFlags = 1 << 0  // upper 16 bits hold the buffer ID
	CQEFlagMore         CQEFlags = 1 << 1  // the request will post more CQEs
	CQEFlagSockNonempty CQEFlags = 1 << 2  // more data was waiting after this receive
	CQEFlagNotif        CQEFlags = 1 << 3  // a SendZC notification, not a result
	CQEFlagBufMore      CQEFlags = 1 << 4  // incremental buffer: this buffer gets more data
	CQEFlagSkip         CQEFlags = 1 << 5  // padding in a mixed-size CQ; ignore
	CQEFlag32           CQEFlags = 1 << 15 // a 32-byte CQE in a mixed-size CQ
	cqeBufferShift               = 16
)

// FeatureFlags are the features the kernel reports (io_uring_params.features).
type FeatureFlags uint32

// Feature flags.
const (
	FeatSingleMmap     FeatureFlags = 1 << 0  // SQ and CQ rings share one mapping
	FeatNoDrop         FeatureFlags = 1 << 1  // CQ overflow is buffered, never dropped
	FeatSubmitStable   FeatureFlags = 1 << 2  // SQE data is copied at submit
	FeatRWCurPos       FeatureFlags = 1 << 3  // offset -1 means the file position
	FeatCurPersonality FeatureFlags = 1 << 4  // requests use the submitter's credentials
	FeatFastPoll       FeatureFlags = 1 << 5  // internal poll instead of async threads
	FeatPoll32Bits     FeatureFlags = 1 << 6  // 32-bit poll masks
	FeatSQPollNonfixed FeatureFlags = 1 << 7  // SQPOLL works with non-registered files
	FeatExtArg         FeatureFlags = 1 << 8  // EnterExtArg is understood
	FeatNativeWorkers  FeatureFlags = 1 << 9  // async workers are threads of the process
	FeatRsrcTags       FeatureFlags = 1 << 10 // tagged resource registration
	FeatCQESkip        FeatureFlags = 1 << 11 // SQECQESkipSuccess is understood
	FeatLinkedFile     FeatureFlags = 1 << 12 // linked requests resolve files late
	FeatRegRegRing     FeatureFlags = 1 << 13 // register accepts a registered ring index
	FeatRecvSendBundle FeatureFlags = 1 << 14 // RecvSendBundle is understood
	FeatMinTimeout     FeatureFlags = 1 << 15 // GetEventsArg.MinWaitUsec is understood
	FeatRWAttr         FeatureFlags = 1 << 16 // read/write attributes
	FeatNoIOWait       FeatureFlags = 1 << 17 // EnterNoIOWait is understood
)

// SQRingFlags are the flags the kernel publishes in the SQ ring.
type SQRingFlags uint32

// SQ ring flags.
const (
	SQRingNeedWakeup SQRingFlags = 1 << 0 // the SQ thread sleeps; enter with EnterSQWakeup
	SQRingCQOverflow SQRingFlags = 1 << 1 // completions wait in the overflow list
	SQRingTaskrun    SQRingFlags = 1 << 2 // task work waits; enter to run it
)

// Opcode is an SQE operation code (io_uring_sqe.opcode).
type Opcode uint8

// Opcodes, in kernel order. Probe tells which ones the running kernel has.
const (
	OpNop Opcode = iota
	OpReadv
	OpWritev
	OpFsync
	OpReadFixed
	OpWriteFixed
	OpPollAdd
	OpPollRemove
	OpSyncFileRange
	OpSendmsg
	OpRecvmsg
	OpTimeout
	OpTimeoutRemove
	OpAccept
	OpAsyncCancel
	OpLinkTimeout
	OpConnect
	OpFallocate
	OpOpenat
	OpClose
	OpFilesUpdate
	OpStatx
	OpRead
	OpWrite
	OpFadvise
	OpMadvise
	OpSend
	OpRecv
	OpOpenat2
	OpEpollCtl
	OpSplice
	OpProvideBuffers
	OpRemoveBuffers
	OpTee
	OpShutdown
	OpRenameat
	OpUnlinkat
	OpMkdirat
	OpSymlinkat
	OpLinkat
	OpMsgRing
	OpFsetxattr
	OpSetxattr
	OpFgetxattr
	OpGetxattr
	OpSocket
	OpURingCmd
	OpSendZC
	OpSendmsgZC
	OpReadMultishot
	OpWaitid
	OpFutexWait
	OpFutexWake
	OpFutexWaitv
	OpFixedFdInstall
	OpFtruncate
	OpBind
	OpListen
	OpRecvZC
	OpEpollWait
	OpReadvFixed
	OpWritevFixed
	OpPipe
	OpNop128      // needs SetupSQEMixed
	OpURingCmd128 // needs SetupSQEMixed
	opLast        // one past the last opcode this binding knows
)

// FsyncFlags modify OpFsync (io_uring_sqe.fsync_flags).
type FsyncFlags uint32

// Fsync flags.
const (
	FsyncDatasync FsyncFlags = 1 << 0 // fdatasync(2) instead of fsync(2)
)

// TimeoutFlags modify OpTimeout, OpTimeoutRemove and OpLinkTimeout
// (io_uring_sqe.timeout_flags).
type TimeoutFlags uint32

// Timeout flags.
const (
	TimeoutAbs          TimeoutFlags = 1 << 0 // the timespec is absolute
	TimeoutUpdate       TimeoutFlags = 1 << 1 // OpTimeoutRemove updates instead of removing
	TimeoutBoottime     TimeoutFlags = 1 << 2 // CLOCK_BOOTTIME
	TimeoutRealtime     TimeoutFlags = 1 << 3 // CLOCK_REALTIME
	LinkTimeoutUpdate   TimeoutFlags = 1 << 4 // update a linked timeout
	TimeoutETimeSuccess TimeoutFlags = 1 << 5 // expiry counts as success for links
	TimeoutMultishot    TimeoutFlags = 1 << 6 // fire repeatedly
	TimeoutImmediateArg TimeoutFlags = 1 << 7 // Addr holds nanoseconds, not a timespec address
)

// CancelFlags modify OpAsyncCancel (io_uring_sqe.cancel_flags).
type CancelFlags uint32

// Cancel flags.
const (
	CancelAll      CancelFlags = 1 << 0 // cancel every match, not only the first
	CancelFd       CancelFlags = 1 << 1 // match on the file descriptor
	CancelAny      CancelFlags = 1 << 2 // match any request
	CancelFdFixed  CancelFlags = 1 << 3 // the fd is a registered file index
	CancelUserData CancelFlags = 1 << 4 // match on user_data (the default)
	CancelOp       CancelFlags = 1 << 5 // match on opcode
)

// AcceptFlags are the OpAccept modifiers stored in io_uring_sqe.ioprio.
type AcceptFlags uint16

// Accept flags.
const (
	AcceptMultishot AcceptFlags = 1 << 0 // post a CQE per accepted connection
	AcceptDontWait  AcceptFlags = 1 << 1 // fail with EAGAIN instead of waiting
	AcceptPollFirst AcceptFlags = 1 << 2 // arm poll before trying to accept
)

// RecvSendFlags are the send and receive modifiers stored in
// io_uring_sqe.ioprio.
type RecvSendFlags uint16

// Receive and send flags.
const (
	RecvSendPollFirst RecvSendFlags = 1 << 0 // arm poll before the first attempt
	RecvMultishot     RecvSendFlags = 1 << 1 // post a CQE per receive (buffer select)
	RecvSendFixedBuf  RecvSendFlags = 1 << 2 // BufIndex names a registered buffer
	SendZCReportUsage RecvSendFlags = 1 << 3 // the notification reports copying
	RecvSendBundle    RecvSendFlags = 1 << 4 // use several provided buffers at once
	SendVectorized    RecvSendFlags = 1 << 5 // Send/SendZC take an iovec array
)

// NotifUsageZCCopied is the bit of a SendZC notification's Res that says the
// kernel copied the data (at least partly) instead of sending it zero-copy.
// It is reported only with SendZCReportUsage.
const NotifUsageZCCopied int32 = -1 << 31

// MsgRingFlags modify OpMsgRing (io_uring_sqe.msg_ring_flags).
type MsgRingFlags uint32

// MSG_RING flags.
const (
	MsgRingCQESkip   MsgRingFlags = 1 << 0 // post no CQE on the target ring (fd passing)
	MsgRingFlagsPass MsgRingFlags = 1 << 1 // FileIndex becomes the target CQE's flags
)

// msgRingData is the OpMsgRing command (stored in Addr) that posts a CQE
// carrying Len as res and Off as user_data on the target ring.
const msgRingData = 0

// PollFlags modify OpPollAdd; they live in io_uring_sqe.len because the
// union field holds the event mask.
type PollFlags uint32

// Poll flags.
const (
	PollAddMulti       PollFlags = 1 << 0 // post a CQE per readiness event
	PollUpdateEvents   PollFlags = 1 << 1 // OpPollRemove updates the event mask
	PollUpdateUserData PollFlags = 1 << 2 // OpPollRemove updates user_data
	PollAddLevel       PollFlags = 1 << 3 // level-triggered
)

// BufRingFlags modify provided buffer ring registration
// (io_uring_buf_reg.flags).
type BufRingFlags uint16

// Buffer ring flags.
const (
	BufRingMmap BufRingFlags = 1 << 0 // the kernel allocates the ring; map it from the ring fd
	BufRingInc  BufRingFlags = 1 << 1 // buffers may be consumed a part at a time
)

// RegisterOp is an io_uring_register(2) opcode.
type RegisterOp uint32

// Register opcodes.
const (
	RegisterBuffers           RegisterOp = 0
	UnregisterBuffers         RegisterOp = 1
	RegisterFiles             RegisterOp = 2
	UnregisterFiles           RegisterOp = 3
	RegisterEventfd           RegisterOp = 4
	UnregisterEventfd         RegisterOp = 5
	RegisterFilesUpdate       RegisterOp = 6
	RegisterEventfdAsync      RegisterOp = 7
	RegisterProbe             RegisterOp = 8
	RegisterPersonality       RegisterOp = 9
	UnregisterPersonality     RegisterOp = 10
	RegisterRestrictions      RegisterOp = 11
	RegisterEnableRings       RegisterOp = 12
	RegisterFiles2            RegisterOp = 13
	RegisterFilesUpdate2      RegisterOp = 14
	RegisterBuffers2          RegisterOp = 15
	RegisterBuffersUpdate     RegisterOp = 16
	RegisterIOWQAff           RegisterOp = 17
	UnregisterIOWQAff         RegisterOp = 18
	RegisterIOWQMaxWorkers    RegisterOp = 19
	RegisterRingFds           RegisterOp = 20
	UnregisterRingFds         RegisterOp = 21
	RegisterPbufRing          RegisterOp = 22
	UnregisterPbufRing        RegisterOp = 23
	RegisterSyncCancel        RegisterOp = 24
	RegisterFileAllocRange    RegisterOp = 25
	RegisterPbufStatus        RegisterOp = 26
	RegisterNAPI              RegisterOp = 27
	UnregisterNAPI            RegisterOp = 28
	RegisterClock             RegisterOp = 29
	RegisterCloneBuffers      RegisterOp = 30
	RegisterSendMsgRing       RegisterOp = 31
	RegisterZCRXIfq           RegisterOp = 32
	RegisterResizeRings       RegisterOp = 33
	RegisterMemRegion         RegisterOp = 34
	RegisterQuery             RegisterOp = 35
	RegisterZCRXCtrl          RegisterOp = 36
	RegisterBPFFilter         RegisterOp = 37
	RegisterUseRegisteredRing RegisterOp = 1 << 31 // or-ed in: fd is a registered ring index
)

// Miscellaneous ABI values.
const (
	// FileIndexAlloc in SQE.FileIndex asks the kernel to pick a free
	// registered file slot for operations that create a file.
	FileIndexAlloc = ^uint32(0)
	// RegisterFilesSkip in a RegisterFilesUpdate slice leaves a slot as is.
	RegisterFilesSkip = -2

	rsrcRegisterSparse = 1 << 0 // io_uring_rsrc_register.flags
	probeOpSupported   = 1 << 0 // io_uring_probe_op.flags

	// Magic mmap offsets on the ring fd.
	offSQRing    = 0
	offCQRing    = 0x8000000
	offSQEs      = 0x10000000
	offPbufRing  = 0x80000000
	offPbufShift = 16
)

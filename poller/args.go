package poller

import "unsafe"

// Portable op arguments.
//
// An Op's integer arguments (Arg, Mode, Fd for directory ops) and some results
// (Res of OpPoll, MsgFlags of OpRecvmsg, the buffer of OpStatx) are written with the
// names below, so that one op means the same thing on every driver:
//
//   - Poll*: the events of OpPoll's Arg and of its result.
//   - Msg*: the flags of OpRecv, OpSend, OpSendZC, OpSendmsg and OpRecvmsg (Arg), and
//     OpRecvmsg's MsgFlags result.
//   - Sock*: OpAccept's Arg, the flags the accepted descriptor gets.
//   - At*: the directory descriptor (AtFDCWD in Fd or Fd2) and the Arg flags of path
//     ops (OpStatx, OpUnlinkat).
//   - Open*: OpOpenat's Arg.
//   - Shut*: OpShutdown's Arg.
//   - Statx*: OpStatx's Mode (the mask of fields wanted) and, with [Statx], its result.
//   - Rename*: OpRenameat's Arg. Falloc*: OpFallocate's Arg.
//
// Where the system has the flag (every one on Linux), the name has the kernel's value,
// so that a completion engine hands it to the kernel unchanged: on Linux each equals
// the golang.org/x/sys/unix constant (PollIn == unix.POLLIN, AtFDCWD == unix.AT_FDCWD,
// ...), which the io_uring driver passes straight through and which callers may keep
// using there. On the BSDs and macOS the names have the host's values too, except the
// few that the host lacks (PollRdHup; AtEmptyPath; SockNonblock and SockCloexec on
// macOS; OpenDirect on macOS and OpenBSD): those are bits the host does not use, which
// the kqueue driver interprets itself (a hang-up from EV_EOF; fstat for an empty path;
// fcntl after accept). On Windows the open flags have the values of Go's syscall
// package (what os.OpenFile passes; the same bits as Linux's for the access modes,
// OpenCreate, OpenExcl, OpenTrunc, OpenAppend and OpenCloexec), and every other name
// has Linux's value, which the IOCP driver translates (AFD poll events, WinSock flags,
// CreateFile dispositions and attributes), except MsgTrunc and MsgCtrunc, results
// that are WinSock's own.
//
// The Statx, Rename and Falloc values, and the Mode* file types of a Statx result, are
// Linux's on every system: they describe the portable [Statx] layout and requests that
// each driver maps to its system's calls.
//
// A driver refuses an argument it cannot honour with a completion error (EINVAL or
// EOPNOTSUPP, or the system's own error), never by ignoring it silently; flags that
// cannot change an outcome on a system (MsgNoSignal where there is no SIGPIPE,
// SockCloexec where handles are not inherited) are accepted and ignored.

// OpStatx's Mode: the fields the caller wants (struct statx's STATX_ mask, Linux's
// values on every system). A driver fills at least these, and says in Statx.Mask
// which it filled.
const (
	StatxType       = 0x1   // Mode's file type bits
	StatxMode       = 0x2   // Mode's permission bits
	StatxNlink      = 0x4   // Nlink
	StatxUID        = 0x8   // Uid
	StatxGID        = 0x10  // Gid
	StatxAtime      = 0x20  // Atime
	StatxMtime      = 0x40  // Mtime
	StatxCtime      = 0x80  // Ctime
	StatxIno        = 0x100 // Ino
	StatxFileSize   = 0x200 // Size (STATX_SIZE; the name StatxSize is the buffer's size)
	StatxBlocks     = 0x400 // Blocks
	StatxBasicStats = 0x7ff // all of the above: what stat(2) reports
	StatxBtime      = 0x800 // Btime, the creation time
)

// File types in Statx.Mode (Mode & ModeTypeMask), the S_IF values, which are the same
// on every Unix; on Windows the driver reports files, directories and reparse-point
// symlinks with them.
const (
	ModeTypeMask = 0xf000 // S_IFMT
	ModeFIFO     = 0x1000 // S_IFIFO
	ModeChar     = 0x2000 // S_IFCHR
	ModeDir      = 0x4000 // S_IFDIR
	ModeBlock    = 0x6000 // S_IFBLK
	ModeRegular  = 0x8000 // S_IFREG
	ModeSymlink  = 0xa000 // S_IFLNK
	ModeSocket   = 0xc000 // S_IFSOCK
)

// OpRenameat's Arg (Linux's renameat2 flags on every system). Drivers whose system
// cannot honour a flag complete the op with EINVAL.
const (
	RenameNoReplace = 0x1 // fail with EEXIST if the new path exists
	RenameExchange  = 0x2 // swap the two paths atomically
)

// OpFallocate's Arg (Linux's fallocate modes on every system). Mode 0 allocates and
// extends the file; drivers whose system cannot honour a mode complete the op with
// EOPNOTSUPP.
const (
	FallocKeepSize  = 0x1  // allocate without changing the file's size
	FallocPunchHole = 0x2  // deallocate the range (with FallocKeepSize)
	FallocZeroRange = 0x10 // zero the range
)

// Statx is the result of OpStatx, laid out as Linux's struct statx (StatxSize bytes),
// on every system: io_uring's kernel writes it directly, and the other drivers fill it
// from their system's stat (fstatat on the BSDs, file information by handle on
// Windows), setting in Mask the fields they filled and leaving the rest zero. Pass
// [Statx.Bytes] as the op's Buf.
//
// Mode holds the file type (ModeTypeMask, ModeDir, ModeRegular, ...) and the
// permission bits, as on Unix. Times are since the Unix epoch.
type Statx struct {
	Mask           uint32 // the Statx* fields filled
	Blksize        uint32 // preferred I/O block size
	Attributes     uint64 // STATX_ATTR_ flags (Linux)
	Nlink          uint32
	Uid            uint32
	Gid            uint32
	Mode           uint16 // file type and permission bits
	_              uint16
	Ino            uint64
	Size           uint64 // bytes
	Blocks         uint64 // 512-byte blocks allocated
	AttributesMask uint64
	Atime          StatxTimestamp
	Btime          StatxTimestamp
	Ctime          StatxTimestamp
	Mtime          StatxTimestamp
	RdevMajor      uint32
	RdevMinor      uint32
	DevMajor       uint32
	DevMinor       uint32
	MntID          uint64
	DioMemAlign    uint32
	DioOffsetAlign uint32
	_              [12]uint64
}

// StatxTimestamp is a time in a Statx result: seconds and nanoseconds since the Unix
// epoch.
type StatxTimestamp struct {
	Sec  int64
	Nsec uint32
	_    int32
}

// Statx is exactly StatxSize bytes.
var (
	_ [StatxSize - unsafe.Sizeof(Statx{})]byte
	_ [unsafe.Sizeof(Statx{}) - StatxSize]byte
)

// Bytes returns s's memory, for OpStatx's Buf. The slice keeps s reachable, so an op
// holding it holds s until the op completes.
func (s *Statx) Bytes() []byte {
	// SAFETY: s points to a live Statx of exactly StatxSize bytes, which the slice
	// covers and keeps reachable; a Statx made by new or as a heap variable is 8-byte
	// aligned, as Validate requires.
	return unsafe.Slice((*byte)(unsafe.Pointer(s)), unsafe.Sizeof(*s))
}

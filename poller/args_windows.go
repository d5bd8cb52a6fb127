package poller

import "golang.org/x/sys/windows"

// The portable op arguments on Windows: Go's syscall values for the open flags (what
// os.OpenFile passes), and Linux's values for the rest, which the IOCP driver
// translates (shutdown's are WinSock's SD_ values too). See args.go.

// OpPoll's events (Arg) and results (Res): Linux's values. The IOCP driver polls with
// AFD: PollIn is AFD_POLL_RECEIVE (and ACCEPT), PollPri RECEIVE_EXPEDITED, PollOut
// SEND, PollRdHup DISCONNECT, PollHup ABORT, PollErr CONNECT_FAIL, PollNval
// LOCAL_CLOSE.
const (
	PollIn    = 0x1    // data to read
	PollPri   = 0x2    // urgent data
	PollOut   = 0x4    // room to write
	PollErr   = 0x8    // an error is pending (always reported)
	PollHup   = 0x10   // hang-up (always reported)
	PollNval  = 0x20   // the descriptor is not open
	PollRdHup = 0x2000 // the peer closed its writing half
)

// Flags of the socket ops' Arg: Linux's values. The IOCP driver passes MsgOOB and
// MsgPeek to WSARecv and WSASend as they are (the same bits in WinSock), turns
// MsgWaitAll into WinSock's MSG_WAITALL, honours MsgDontWait (EAGAIN when WSAPoll says
// the call would wait) and ignores MsgNoSignal (Windows has no SIGPIPE).
const (
	MsgOOB      = 0x1    // out-of-band data
	MsgPeek     = 0x2    // receive without consuming
	MsgWaitAll  = 0x100  // complete only when the whole buffer is done
	MsgDontWait = 0x40   // complete with EAGAIN instead of waiting
	MsgNoSignal = 0x4000 // no SIGPIPE (there is none: ignored)
)

// OpRecvmsg's MsgFlags result: WinSock's MSG_TRUNC and MSG_CTRUNC, which WSARecvMsg
// reports. They are results only, never arguments (MsgTrunc has MsgWaitAll's value
// here).
const (
	MsgTrunc  = windows.MSG_TRUNC  // a datagram was longer than the buffers
	MsgCtrunc = windows.MSG_CTRUNC // control data was cut short
)

// OpAccept's Arg: Linux's values, accepted and ignored: the IOCP driver's sockets are
// always overlapped and never inherited.
const (
	SockNonblock = 0x800   // non-blocking
	SockCloexec  = 0x80000 // closed on exec
)

// The directory descriptor and flags of path ops: Linux's values. With AtFDCWD a
// relative Path is resolved against the process's working directory; otherwise Fd is
// a directory handle.
const (
	AtFDCWD           = -100   // Fd (or Fd2): paths relative to the working directory
	AtRemoveDir       = 0x200  // OpUnlinkat: remove a directory
	AtSymlinkNoFollow = 0x100  // OpStatx: do not follow a final symlink (reparse point)
	AtEmptyPath       = 0x1000 // OpStatx: an empty Path means Fd itself
)

// OpOpenat's Arg: Go's syscall values, which os.OpenFile passes on Windows, and Linux's
// values for the flags syscall does not define there. The IOCP driver maps them to
// CreateFile's access, disposition and attributes (always FILE_FLAG_OVERLAPPED).
const (
	OpenRdOnly    = windows.O_RDONLY
	OpenWrOnly    = windows.O_WRONLY
	OpenRdWr      = windows.O_RDWR
	OpenCreate    = windows.O_CREAT
	OpenExcl      = windows.O_EXCL
	OpenTrunc     = windows.O_TRUNC
	OpenAppend    = windows.O_APPEND
	OpenSync      = windows.O_SYNC    // FILE_FLAG_WRITE_THROUGH
	OpenCloexec   = windows.O_CLOEXEC // handles are not inherited: ignored
	OpenDirectory = 0x10000           // FILE_FLAG_BACKUP_SEMANTICS; fail unless a directory
	OpenNoFollow  = 0x20000           // FILE_FLAG_OPEN_REPARSE_POINT
	OpenDirect    = 0x4000            // FILE_FLAG_NO_BUFFERING
)

// OpShutdown's Arg: WinSock's SD_RECEIVE, SD_SEND and SD_BOTH.
const (
	ShutRd   = windows.SHUT_RD
	ShutWr   = windows.SHUT_WR
	ShutRdWr = windows.SHUT_RDWR
)

//go:build !(linux || windows || darwin || dragonfly || freebsd || netbsd || openbsd)

package poller

// The portable op arguments where Zokio has no driver: Linux's values, so that code
// naming them compiles. See args.go.

// OpPoll's events (Arg) and results (Res).
const (
	PollIn    = 0x1    // data to read
	PollPri   = 0x2    // urgent data
	PollOut   = 0x4    // room to write
	PollErr   = 0x8    // an error is pending (always reported)
	PollHup   = 0x10   // hang-up (always reported)
	PollNval  = 0x20   // the descriptor is not open
	PollRdHup = 0x2000 // the peer closed its writing half
)

// Flags of the socket ops' Arg and of OpRecvmsg's MsgFlags result.
const (
	MsgOOB      = 0x1    // out-of-band data
	MsgPeek     = 0x2    // receive without consuming
	MsgWaitAll  = 0x100  // complete only when the whole buffer is done
	MsgDontWait = 0x40   // complete with EAGAIN instead of waiting
	MsgNoSignal = 0x4000 // EPIPE instead of SIGPIPE on a broken stream
	MsgTrunc    = 0x20   // result: a datagram was longer than the buffers
	MsgCtrunc   = 0x8    // result: control data was cut short
)

// OpAccept's Arg: flags of the accepted descriptor.
const (
	SockNonblock = 0x800   // non-blocking
	SockCloexec  = 0x80000 // closed on exec
)

// The directory descriptor and flags of path ops.
const (
	AtFDCWD           = -100   // Fd (or Fd2): paths relative to the working directory
	AtRemoveDir       = 0x200  // OpUnlinkat: remove a directory
	AtSymlinkNoFollow = 0x100  // OpStatx: do not follow a final symlink
	AtEmptyPath       = 0x1000 // OpStatx: an empty Path means Fd itself
)

// OpOpenat's Arg.
const (
	OpenRdOnly    = 0x0
	OpenWrOnly    = 0x1
	OpenRdWr      = 0x2
	OpenCreate    = 0x40
	OpenExcl      = 0x80
	OpenTrunc     = 0x200
	OpenAppend    = 0x400
	OpenSync      = 0x101000
	OpenCloexec   = 0x80000
	OpenDirectory = 0x10000 // fail unless the path is a directory
	OpenNoFollow  = 0x20000 // fail if the final component is a symlink
	OpenDirect    = 0x4000  // bypass the page cache
)

// OpShutdown's Arg.
const (
	ShutRd   = 0
	ShutWr   = 1
	ShutRdWr = 2
)

package poller

import "golang.org/x/sys/unix"

// The portable op arguments on Linux: the kernel's own values, so that the io_uring
// driver passes them through and the epoll driver hands them to the same system
// calls. See args.go for what each family is for.

// OpPoll's events (Arg) and results (Res).
const (
	PollIn    = unix.POLLIN    // data to read
	PollPri   = unix.POLLPRI   // urgent data
	PollOut   = unix.POLLOUT   // room to write
	PollErr   = unix.POLLERR   // an error is pending (always reported)
	PollHup   = unix.POLLHUP   // hang-up (always reported)
	PollNval  = unix.POLLNVAL  // the descriptor is not open
	PollRdHup = unix.POLLRDHUP // the peer closed its writing half
)

// PollRdHup is also the revents bit a [Backend] hands to Core.Ready for the peer's
// shutdown of its writing half.

// Flags of the socket ops' Arg and of OpRecvmsg's MsgFlags result.
const (
	MsgOOB      = unix.MSG_OOB      // out-of-band data
	MsgPeek     = unix.MSG_PEEK     // receive without consuming
	MsgWaitAll  = unix.MSG_WAITALL  // complete only when the whole buffer is done
	MsgDontWait = unix.MSG_DONTWAIT // complete with EAGAIN instead of waiting
	MsgNoSignal = unix.MSG_NOSIGNAL // EPIPE instead of SIGPIPE on a broken stream
	MsgTrunc    = unix.MSG_TRUNC    // result: a datagram was longer than the buffers
	MsgCtrunc   = unix.MSG_CTRUNC   // result: control data was cut short
)

// OpAccept's Arg: flags of the accepted descriptor.
const (
	SockNonblock = unix.SOCK_NONBLOCK // non-blocking
	SockCloexec  = unix.SOCK_CLOEXEC  // closed on exec
)

// The directory descriptor and flags of path ops.
const (
	AtFDCWD           = unix.AT_FDCWD            // Fd (or Fd2): paths relative to the working directory
	AtRemoveDir       = unix.AT_REMOVEDIR        // OpUnlinkat: remove a directory
	AtSymlinkNoFollow = unix.AT_SYMLINK_NOFOLLOW // OpStatx: do not follow a final symlink
	AtEmptyPath       = unix.AT_EMPTY_PATH       // OpStatx: an empty Path means Fd itself
)

// OpOpenat's Arg.
const (
	OpenRdOnly    = unix.O_RDONLY
	OpenWrOnly    = unix.O_WRONLY
	OpenRdWr      = unix.O_RDWR
	OpenCreate    = unix.O_CREAT
	OpenExcl      = unix.O_EXCL
	OpenTrunc     = unix.O_TRUNC
	OpenAppend    = unix.O_APPEND
	OpenSync      = unix.O_SYNC
	OpenCloexec   = unix.O_CLOEXEC
	OpenDirectory = unix.O_DIRECTORY // fail unless the path is a directory
	OpenNoFollow  = unix.O_NOFOLLOW  // fail if the final component is a symlink
	OpenDirect    = unix.O_DIRECT    // bypass the page cache (0 where the system has no such flag)
)

// OpShutdown's Arg.
const (
	ShutRd   = unix.SHUT_RD
	ShutWr   = unix.SHUT_WR
	ShutRdWr = unix.SHUT_RDWR
)

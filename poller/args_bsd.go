//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package poller

import "golang.org/x/sys/unix"

// The portable op arguments on macOS and the BSDs: the host's values, and for what the
// host lacks, bits it does not use that the kqueue driver interprets. See args.go.

// OpPoll's events (Arg) and results (Res).
const (
	PollIn   = unix.POLLIN   // data to read
	PollPri  = unix.POLLPRI  // urgent data
	PollOut  = unix.POLLOUT  // room to write
	PollErr  = unix.POLLERR  // an error is pending (always reported)
	PollHup  = unix.POLLHUP  // hang-up (always reported)
	PollNval = unix.POLLNVAL // the descriptor is not open
)

// PollRdHup, the peer's shutdown of its writing half, is defined with the readiness
// core in sys_bsd.go: these systems' poll(2) has no such bit, and the kqueue driver
// reports it from EV_EOF on the read filter.

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

// The directory descriptor and flags of path ops.
const (
	AtFDCWD           = unix.AT_FDCWD            // Fd (or Fd2): paths relative to the working directory
	AtRemoveDir       = unix.AT_REMOVEDIR        // OpUnlinkat: remove a directory
	AtSymlinkNoFollow = unix.AT_SYMLINK_NOFOLLOW // OpStatx: do not follow a final symlink
	// AtEmptyPath (OpStatx): an empty Path means Fd itself. A bit no BSD's fstatat
	// uses: the kqueue driver stats Fd with fstat when it is set and Path is empty.
	AtEmptyPath = 0x40000000
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
)

// OpShutdown's Arg.
const (
	ShutRd   = unix.SHUT_RD
	ShutWr   = unix.SHUT_WR
	ShutRdWr = unix.SHUT_RDWR
)

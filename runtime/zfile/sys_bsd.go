//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package zfile

import (
	"github.com/zokio/zokio/poller"
	"github.com/zokio/zokio/runtime"
)

// The part of the system layer for macOS and the BSDs (the shared part is
// sys_unix.go). These systems have no read that fails instead of waiting for the
// disk (Linux's RWF_NOWAIT), so every read goes to the kqueue driver's worker pool;
// and no statx, so the driver answers OpStatx with fstatat decoded into poller's
// Statx (fillSys turns it into the *syscall.Stat_t that os's FileInfo.Sys returns).

// tryRead reports errWouldBlock: the read goes to the driver.
func (f *File) tryRead(p []byte, off int64) (int, error) { return 0, errWouldBlock }

// tryReadv reports errWouldBlock: the read goes to the driver.
func (f *File) tryReadv(bufs [][]byte, off int64) (int, error) { return 0, errWouldBlock }

// statxOp fills op to stat path relative to dirfd. Path "" with a descriptor stats
// the descriptor itself (AtEmptyPath: the driver calls fstat, File.Stat); with
// AT_FDCWD it names no file and fails with ENOENT, as os.Stat("") does.
func statxOp(op *poller.Op, dirfd int, path string, nofollow bool, b *statBuf) {
	var flags uint32
	if path == "" && dirfd != poller.AtFDCWD {
		flags |= poller.AtEmptyPath
	}
	if nofollow {
		flags |= poller.AtSymlinkNoFollow
	}
	*op = poller.Op{Code: poller.OpStatx, Fd: dirfd, Path: path, Arg: flags, Mode: poller.StatxBasicStats, Buf: b.bytes()}
}

// fixedTable is a loop's registered file table, which only io_uring has: here it has
// no slots, and every file keeps its plain descriptor.
type fixedTable struct{}

// add reports that fd gets no slot.
func (fixedTable) add() int32 { return -1 }

func acquireFixed(ls *loopState, l *runtime.Loop, fd int) int32 { return ls.fixed.add() }

func releaseFixed(ls *loopState, l *runtime.Loop, slot int32) {}

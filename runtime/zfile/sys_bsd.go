//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package zfile

import (
	"io/fs"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/zokio/zokio/poller"
	"github.com/zokio/zokio/runtime"
)

// The part of the system layer for macOS and the BSDs (the shared part is
// sys_unix.go). These systems have no read that fails instead of waiting for the
// disk (Linux's RWF_NOWAIT), so every read goes to the kqueue driver's worker pool;
// and no statx, so the driver answers OpStatx with fstatat decoded into poller's
// Statx, which is turned here into the *syscall.Stat_t that os's FileInfo.Sys
// returns on these systems.

// tryRead reports errWouldBlock: the read goes to the driver.
func (f *File) tryRead(p []byte, off int64) (int, error) { return 0, errWouldBlock }

// tryReadv reports errWouldBlock: the read goes to the driver.
func (f *File) tryReadv(bufs [][]byte, off int64) (int, error) { return 0, errWouldBlock }

// statBuf is the memory an OpStatx fills: a poller.Statx.
type statBuf struct{ st poller.Statx }

// bytes returns the buffer OpStatx writes into.
func (b *statBuf) bytes() []byte {
	// SAFETY: b is a heap object referenced by the op (through this slice) until the
	// op completes; the slice covers exactly its Statx, whose first field is 8-byte
	// aligned as Validate requires.
	return unsafe.Slice((*byte)(unsafe.Pointer(&b.st)), unsafe.Sizeof(b.st))
}

// statxOp fills op to stat path relative to dirfd. Path "" with a descriptor stats
// the descriptor itself (AtEmptyPath: the driver calls fstat, File.Stat); with
// AT_FDCWD it names no file and fails with ENOENT, as os.Stat("") does.
func statxOp(op *poller.Op, dirfd int, path string, nofollow bool, b *statBuf) {
	var flags uint32
	if path == "" && dirfd != atFdCwd {
		flags |= poller.AtEmptyPath
	}
	if nofollow {
		flags |= poller.AtSymlinkNoFollow
	}
	*op = poller.Op{Code: poller.OpStatx, Fd: dirfd, Path: path, Arg: flags, Mode: poller.StatxBasicStats, Buf: b.bytes()}
}

// fileInfo converts the result into the os package's view: Mode, ModTime and Size as
// os.Stat computes them, and Sys returning a *syscall.Stat_t.
func (b *statBuf) fileInfo(name string) fs.FileInfo {
	sx := &b.st
	fi := &fileInfo{name: name, size: int64(sx.Size)}
	st := &fi.sys
	setInt(&st.Dev, devOf(sx.DevMajor, sx.DevMinor))
	setInt(&st.Ino, sx.Ino)
	setInt(&st.Nlink, uint64(sx.Nlink))
	setInt(&st.Mode, uint64(sx.Mode))
	setInt(&st.Uid, uint64(sx.Uid))
	setInt(&st.Gid, uint64(sx.Gid))
	setInt(&st.Rdev, devOf(sx.RdevMajor, sx.RdevMinor))
	st.Size = int64(sx.Size)
	setInt(&st.Blksize, uint64(sx.Blksize))
	st.Blocks = int64(sx.Blocks)
	setStatTimes(st, timespec(sx.Atime), timespec(sx.Mtime), timespec(sx.Ctime))
	fi.modTime = time.Unix(sx.Mtime.Sec, int64(sx.Mtime.Nsec))
	fi.mode = fileMode(uint32(sx.Mode))
	return fi
}

// devOf is the device number the kqueue driver split into major and minor (with
// x/sys's Major and Minor for this system), put back together.
func devOf(major, minor uint32) uint64 { return unix.Mkdev(major, minor) }

func timespec(t poller.StatxTimestamp) syscall.Timespec {
	var ts syscall.Timespec
	setInt(&ts.Sec, uint64(t.Sec))
	setInt(&ts.Nsec, uint64(t.Nsec))
	return ts
}

// fixedTable is a loop's registered file table, which only io_uring has: here it has
// no slots, and every file keeps its plain descriptor.
type fixedTable struct{}

// add reports that fd gets no slot.
func (fixedTable) add() int32 { return -1 }

func acquireFixed(ls *loopState, l *runtime.Loop, fd int) int32 { return ls.fixed.add() }

func releaseFixed(ls *loopState, l *runtime.Loop, slot int32) {}

//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package zfile

import (
	"io/fs"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/zokio/zokio/poller"
)

// The system layer that Linux, macOS and the BSDs share. What differs is in
// sys_linux.go (reads that try the page cache first with preadv2 and RWF_NOWAIT;
// statx), sys_bsd.go (every read goes to the driver's worker pool; stat through
// fstatat, which the kqueue driver decodes into poller's Statx) and stattime_*.go
// (the names of a Stat_t's times).

// oDirect bypasses the page cache: O_DIRECT on Linux, FreeBSD, NetBSD and DragonFly;
// 0 on macOS and OpenBSD, whose open(2) has no such flag (macOS has fcntl's F_NOCACHE
// for an open file instead).
const oDirect = poller.OpenDirect

// platformErr reports whether this platform can run files at all.
func platformErr() error { return nil }

func seekFd(fd int, off int64, whence int) (int64, error) { return unix.Seek(fd, off, whence) }

func closeFd(fd int) error { return unix.Close(fd) }

// zeroWrite makes the zero-length write os.File.Write makes for an empty buffer: it
// never blocks, and reports EBADF for a file not open for writing.
func zeroWrite(fd int) error {
	_, err := unix.Write(fd, nil)
	return err
}

// setInt stores v in an integer field whose width differs between architectures.
func setInt[T ~uint16 | ~int32 | ~int64 | ~uint32 | ~uint64](dst *T, v uint64) { *dst = T(v) }

// fillSys fills the *syscall.Stat_t a fileInfo's Sys returns, as os's does, from the
// Statx the driver filled (io_uring's kernel, or the kqueue driver from fstatat).
func fillSys(st *syscall.Stat_t, sx *poller.Statx) {
	setInt(&st.Dev, unix.Mkdev(sx.DevMajor, sx.DevMinor))
	setInt(&st.Ino, sx.Ino)
	setInt(&st.Nlink, uint64(sx.Nlink))
	setInt(&st.Mode, uint64(sx.Mode))
	setInt(&st.Uid, uint64(sx.Uid))
	setInt(&st.Gid, uint64(sx.Gid))
	setInt(&st.Rdev, unix.Mkdev(sx.RdevMajor, sx.RdevMinor))
	st.Size = int64(sx.Size)
	setInt(&st.Blksize, uint64(sx.Blksize))
	st.Blocks = int64(sx.Blocks)
	setStatTimes(st, timespec(sx.Atime), timespec(sx.Mtime), timespec(sx.Ctime))
}

func timespec(t poller.StatxTimestamp) syscall.Timespec {
	var ts syscall.Timespec
	setInt(&ts.Sec, uint64(t.Sec))
	setInt(&ts.Nsec, uint64(t.Nsec))
	return ts
}

// fileMode is os's conversion of st_mode.
func fileMode(m uint32) fs.FileMode {
	mode := fs.FileMode(m & 0o777)
	switch m & poller.ModeTypeMask {
	case poller.ModeBlock:
		mode |= fs.ModeDevice
	case poller.ModeChar:
		mode |= fs.ModeDevice | fs.ModeCharDevice
	case poller.ModeDir:
		mode |= fs.ModeDir
	case poller.ModeFIFO:
		mode |= fs.ModeNamedPipe
	case poller.ModeSymlink:
		mode |= fs.ModeSymlink
	case poller.ModeSocket:
		mode |= fs.ModeSocket
	}
	if m&syscall.S_ISGID != 0 {
		mode |= fs.ModeSetgid
	}
	if m&syscall.S_ISUID != 0 {
		mode |= fs.ModeSetuid
	}
	if m&syscall.S_ISVTX != 0 {
		mode |= fs.ModeSticky
	}
	return mode
}

// fileSys is what a fileInfo's Sys returns a pointer to, as os's FileInfo does here.
type fileSys = syscall.Stat_t

// sameFile reports whether two results of statBuf.fileInfo describe the same file.
func sameFile(a, b fs.FileInfo) bool {
	sa, sb := a.Sys().(*syscall.Stat_t), b.Sys().(*syscall.Stat_t)
	return sa.Dev == sb.Dev && sa.Ino == sb.Ino
}

// Op names in errors, as os names them here.
const (
	opStat  = "stat"
	opLstat = "lstat"
	opFstat = "stat"
)

// renameChecksDir: Rename refuses to replace a directory itself (EEXIST), as os does
// on this system.
const renameChecksDir = true

// hostErr is err as os reports it here: the kernel's errno unchanged.
func hostErr(op, path string, err error) error { return err }

// afterAppend moves nothing: the kernel leaves an O_APPEND file's position at its end.
func afterAppend(fd int) {}

// emptyStatOp is the op name of Stat("") and Lstat(""): the usual one.
func emptyStatOp(op string, nofollow bool) string { return op }

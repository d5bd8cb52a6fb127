package zfile

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/windows"

	"github.com/zokio/zokio/poller"
	"github.com/zokio/zokio/runtime"
)

// Files on Windows: the IOCP driver opens them overlapped (FILE_FLAG_OVERLAPPED, in
// OpOpenat on its worker pool), reads and writes them with overlapped ReadFile and
// WriteFile at the offsets this package passes, and runs the path ops on its workers.
// A descriptor here is the file handle's value. The ops' arguments keep the encodings
// the driver reads: syscall's O_ flags, Linux's AT_ values, a negative directory for
// the current one, and Linux's struct statx layout for OpStatx's result.
const oDirect = 0 // no O_DIRECT: FILE_FLAG_NO_BUFFERING is not offered

// platformErr reports whether this platform can run files at all: it can.
func platformErr() error { return nil }

// There is no page-cache fast path on Windows (nothing like preadv2's RWF_NOWAIT):
// every read goes through the driver.
func (f *File) tryRead(p []byte, off int64) (int, error) { return 0, errWouldBlock }

func (f *File) tryReadv(bufs [][]byte, off int64) (int, error) { return 0, errWouldBlock }

// seekFd moves the handle's file pointer (SetFilePointerEx). This package reads and
// writes at explicit offsets computed from it, as on Linux, so the pointer is the
// file position; it does not wait for the device.
func seekFd(fd int, off int64, whence int) (int64, error) {
	return windows.Seek(windows.Handle(fd), off, whence)
}

func closeFd(fd int) error { return windows.CloseHandle(windows.Handle(fd)) }

// zeroWrite makes the zero-length WriteFile os.File.Write makes for an empty buffer:
// a handle not opened for writing says ERROR_ACCESS_DENIED. See zeroIO.
func zeroWrite(fd int) error { return zeroIO(fd, false) }

// zeroRead makes the zero-length ReadFile os.File.Read makes for an empty buffer: a
// handle not opened for reading says ERROR_ACCESS_DENIED, a directory
// ERROR_INVALID_FUNCTION.
func zeroRead(fd int) error { return zeroIO(fd, true) }

// zeroIO makes a zero-length ReadFile or WriteFile on an overlapped handle and waits
// for it. Its OVERLAPPED names an event whose low-order bit is set, so that no packet
// reaches the completion port the handle may be associated with: the driver never
// sees the call. It moves no data and, under Wine, pends only for a moment.
func zeroIO(fd int, read bool) error {
	ev, err := windows.CreateEvent(nil, 1, 0, nil)
	if err != nil {
		return err
	}
	defer windows.CloseHandle(ev)
	h := windows.Handle(fd)
	ov := &windows.Overlapped{HEvent: ev | 1} // on the heap: the system holds it while pending
	n := new(uint32)                          // never nil: -race's ReadFile reads it
	if read {
		err = windows.ReadFile(h, nil, n, ov)
	} else {
		err = windows.WriteFile(h, nil, n, ov)
	}
	if err == windows.ERROR_IO_PENDING {
		err = windows.GetOverlappedResult(h, ov, n, true)
	}
	if err == windows.ERROR_HANDLE_EOF || err == windows.ERROR_BROKEN_PIPE {
		err = nil // what a read of nothing at the end is
	}
	return err
}

// errStatClosed is what Stat on a closed File reports, as os.File.Stat does on
// Windows: os asks GetFileType about the handle it has closed, which answers
// ERROR_INVALID_HANDLE (the op name is opFstat's).
var errStatClosed error = windows.ERROR_INVALID_HANDLE

// statxOp fills op to stat path relative to dirfd. Path "" with a descriptor stats
// the handle itself (File.Stat); with AtFDCWD it names no file and fails with ENOENT,
// as os.Stat("") does. nofollow (Lstat) stats a symbolic link or junction itself.
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

// fillSys fills the *syscall.Win32FileAttributeData a fileInfo's Sys returns, as
// os's does, from what the IOCP driver writes (size, mode, link count, times).
func fillSys(d *syscall.Win32FileAttributeData, sx *poller.Statx) {
	d.FileSizeHigh, d.FileSizeLow = uint32(sx.Size>>32), uint32(sx.Size)
	d.CreationTime = syscall.NsecToFiletime(statxTime(sx.Btime).UnixNano())
	d.LastAccessTime = syscall.NsecToFiletime(statxTime(sx.Atime).UnixNano())
	d.LastWriteTime = syscall.NsecToFiletime(statxTime(sx.Mtime).UnixNano())
	if sx.Mode&poller.ModeTypeMask == poller.ModeDir {
		d.FileAttributes |= windows.FILE_ATTRIBUTE_DIRECTORY
	}
	if sx.Mode&0o222 == 0 {
		d.FileAttributes |= windows.FILE_ATTRIBUTE_READONLY
	}
	if d.FileAttributes == 0 {
		d.FileAttributes = windows.FILE_ATTRIBUTE_ARCHIVE // what a new file has
	}
}

// fileMode converts a statx mode (Linux's S_IF values, which the driver writes) as os
// does on Windows: a directory, a symbolic link or a regular file, with the permission
// bits (0666 or 0444 for files, 0777 or 0555 for directories).
func fileMode(m uint32) fs.FileMode {
	mode := fs.FileMode(m & 0o777)
	switch m & poller.ModeTypeMask {
	case poller.ModeDir:
		mode |= fs.ModeDir
	case poller.ModeSymlink:
		mode |= fs.ModeSymlink
	}
	return mode
}

// fileSys is what a fileInfo's Sys returns a pointer to, as os's FileInfo does on Windows.
type fileSys = syscall.Win32FileAttributeData

// sameFile is never asked here (renameChecksDir is false: Windows itself refuses to
// replace a directory), and says no. The driver's stat has the file index (Ino) and
// volume serial (DevMinor), but fileInfo keeps only what os's Windows FileInfo shows.
func sameFile(a, b fs.FileInfo) bool { return false }

// fixedTable is empty where there is no io_uring: files use plain handles.
type fixedTable struct{}

func acquireFixed(ls *loopState, l *runtime.Loop, fd int) int32 { return -1 }

func releaseFixed(ls *loopState, l *runtime.Loop, slot int32) {}

// Op names in errors, as os names them on Windows (after the Win32 call that failed).
const (
	opStat  = "GetFileAttributesEx"
	opLstat = "GetFileAttributesEx"
	opFstat = "GetFileType"
)

// renameChecksDir is false: Windows itself refuses to replace a directory
// (ERROR_ACCESS_DENIED, as os.Rename reports it there).
const renameChecksDir = false

// hostErr turns an errno of the driver back into the Win32 code os.File wraps on
// Windows: the IOCP driver reports the errnos Linux and Windows share as syscall's
// portable values, so that an op means the same on every driver. Where one portable
// value stands for two Windows codes, the op and the path decide, as Windows would:
// a missing file is ERROR_PATH_NOT_FOUND when its directory is missing too (or the
// path is empty), and an existing name is ERROR_ALREADY_EXISTS for mkdir.
func hostErr(op, path string, err error) error {
	var e syscall.Errno
	if !errors.As(err, &e) || strings.IndexByte(path, 0) >= 0 {
		return err // a NUL in the name is refused before any call, as os refuses it
	}
	switch e {
	case syscall.ENOENT:
		if path == "" && op == "open" {
			return windows.ERROR_FILE_NOT_FOUND
		}
		if path == "" {
			return windows.ERROR_PATH_NOT_FOUND
		}
		if _, serr := os.Stat(filepath.Dir(path)); serr != nil {
			return windows.ERROR_PATH_NOT_FOUND
		}
		return windows.ERROR_FILE_NOT_FOUND
	case syscall.EBADF:
		// The driver's EBADF for a read or write on an open File means the handle was
		// not opened for it (a closed File never reaches the driver: ErrClosed); os
		// reports ReadFile's and WriteFile's ERROR_ACCESS_DENIED for that.
		if op == "read" || op == "write" {
			return windows.ERROR_ACCESS_DENIED
		}
	case syscall.EEXIST:
		if op == "mkdir" {
			return windows.ERROR_ALREADY_EXISTS
		}
		if fi, serr := os.Stat(path); op == "open" && serr == nil && fi.IsDir() {
			return syscall.EISDIR // os.OpenFile's answer for creating over a directory
		}
		return windows.ERROR_FILE_EXISTS
	}
	if w, ok := win32Errnos[e]; ok {
		return w
	}
	return err
}

var win32Errnos = map[syscall.Errno]syscall.Errno{
	syscall.EACCES:    windows.ERROR_ACCESS_DENIED,
	syscall.EPERM:     windows.ERROR_ACCESS_DENIED,
	syscall.EINVAL:    windows.ERROR_INVALID_PARAMETER,
	syscall.ENOTEMPTY: windows.ERROR_DIR_NOT_EMPTY,
	syscall.ENOTDIR:   windows.ERROR_DIRECTORY,
	syscall.EBADF:     windows.ERROR_INVALID_HANDLE,
	syscall.ENOMEM:    windows.ERROR_NOT_ENOUGH_MEMORY,
}

// afterAppend moves an append-only handle's file pointer to the end, where os.File's
// appending writes leave it: the driver appends without moving it.
func afterAppend(fd int) { _, _ = seekFd(fd, 0, io.SeekEnd) }

// emptyStatOp is the op name os gives Stat("") and Lstat("") on Windows, which it
// refuses before any call: "Stat" and "Lstat".
func emptyStatOp(op string, nofollow bool) string {
	if nofollow {
		return "Lstat"
	}
	return "Stat"
}

// homeLoop is the loop that opened the file: the IOCP driver associates the handle an
// OpOpenat opens with its own completion port, which holds the handle for its life, so
// the opener's driver completes the file's reads and writes directly (another loop's
// driver runs them on its workers instead; see package iocp).
func homeLoop(loops []*runtime.Loop, opener *runtime.Loop, fd int) *runtime.Loop { return opener }

//go:build linux || windows || darwin || dragonfly || freebsd || netbsd || openbsd

package zfile

import (
	"io/fs"
	"time"

	"github.com/zokio/zokio/poller"
)

// statBuf is the memory an OpStatx fills: a poller.Statx, Linux's struct statx
// layout, which io_uring's kernel writes directly and the other drivers fill.
type statBuf struct{ sx poller.Statx }

// bytes returns the buffer OpStatx writes into; it keeps b reachable, so the op holds
// b until it completes.
func (b *statBuf) bytes() []byte { return b.sx.Bytes() }

// fileInfo converts a statx result into the os package's view: Mode, ModTime and Size
// as os.Stat computes them on this system, and Sys returning the system's record.
func (b *statBuf) fileInfo(name string) fs.FileInfo {
	sx := &b.sx
	fi := &fileInfo{name: name, size: int64(sx.Size), mode: fileMode(uint32(sx.Mode)), modTime: statxTime(sx.Mtime)}
	fillSys(&fi.sys, sx)
	return fi
}

// statxTime converts a statx timestamp.
func statxTime(ts poller.StatxTimestamp) time.Time { return time.Unix(ts.Sec, int64(ts.Nsec)) }

// fileInfo implements fs.FileInfo as os's does; its Sys is the system's own stat
// record (fileSys, per system).
type fileInfo struct {
	name    string
	size    int64
	mode    fs.FileMode
	modTime time.Time
	sys     fileSys
}

// Name returns the base name of the file.
func (fi *fileInfo) Name() string { return fi.name }

// Size returns the length in bytes of a regular file.
func (fi *fileInfo) Size() int64 { return fi.size }

// Mode returns the file mode bits, as os computes them.
func (fi *fileInfo) Mode() fs.FileMode { return fi.mode }

// ModTime returns the modification time.
func (fi *fileInfo) ModTime() time.Time { return fi.modTime }

// IsDir reports whether the file is a directory.
func (fi *fileInfo) IsDir() bool { return fi.mode.IsDir() }

// Sys returns a *fileSys (*syscall.Stat_t on Linux, *syscall.Win32FileAttributeData on
// Windows), as os's FileInfo does.
func (fi *fileInfo) Sys() any { return &fi.sys }

//go:build linux || windows || darwin || dragonfly || freebsd || netbsd || openbsd

package zfile

import (
	"io/fs"
	"time"
)

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

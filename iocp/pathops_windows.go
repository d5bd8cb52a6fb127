package iocp

import (
	"math"
	"path/filepath"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/zokio/zokio/poller"
)

// The worker side of the file and path ops. Arguments keep their host encodings: O_
// flags are syscall's (the same bits as Linux for O_CREAT, O_EXCL, O_TRUNC, O_APPEND
// and O_CLOEXEC), AT_REMOVEDIR is Linux's value, a negative directory descriptor is the
// current directory (AT_FDCWD); OpOpenat's OpenDirectory, OpenNoFollow, OpenDirect and
// OpenSync are poller's Windows values (see openat). OpStatx fills a poller.Statx with
// what Windows has, and says which fields in its Mask (see statx).

const (
	atRemoveDir = 0x200
	atEmptyPath = 0x1000

	fallocKeepSize = 0x1
)

// runJob performs a worker's op and returns its result.
func runJob(j *job) int32 {
	op := j.op
	switch op.Code {
	case poller.OpFsync:
		return errRes(windows.FlushFileBuffers(j.h))
	case poller.OpFtruncate:
		return errRes(setEOF(j.h, op.Len))
	case poller.OpFallocate:
		return fallocate(j.h, op)
	case poller.OpOpenat:
		return openat(op)
	case poller.OpMkdirat:
		return pathCall(op.Fd, op.Path, func(p *uint16) error { return windows.CreateDirectory(p, nil) })
	case poller.OpUnlinkat:
		if op.Arg&atRemoveDir != 0 {
			return pathCall(op.Fd, op.Path, windows.RemoveDirectory)
		}
		return pathCall(op.Fd, op.Path, windows.DeleteFile)
	case poller.OpRenameat:
		return renameat(op)
	case poller.OpStatx:
		return statx(op)
	case poller.OpRead, poller.OpWrite:
		return syncRW(j, op.Code == poller.OpRead, [][]byte{op.Buf})
	case poller.OpReadv, poller.OpWritev:
		return syncRW(j, op.Code == poller.OpReadv, op.Bufs)
	}
	return -int32(syscall.EOPNOTSUPP)
}

func setEOF(h windows.Handle, size int64) error {
	// SAFETY: FILE_END_OF_FILE_INFO is one int64, read during the call.
	return windows.SetFileInformationByHandle(h, windows.FileEndOfFileInfo,
		(*byte)(unsafe.Pointer(&size)), uint32(unsafe.Sizeof(size)))
}

// fallocate reserves space up to Offset+Len; without FALLOC_FL_KEEP_SIZE the file grows
// to that size, as fallocate(2) makes it.
func fallocate(h windows.Handle, op *poller.Op) int32 {
	if op.Arg&^fallocKeepSize != 0 {
		return -int32(syscall.EOPNOTSUPP)
	}
	end := op.Offset + op.Len
	var fi windows.ByHandleFileInformation
	if err := windows.GetFileInformationByHandle(h, &fi); err != nil {
		return errRes(err)
	}
	size := int64(fi.FileSizeHigh)<<32 | int64(fi.FileSizeLow)
	if end <= size {
		return 0
	}
	// SAFETY: FILE_ALLOCATION_INFO is one int64, read during the call.
	err := windows.SetFileInformationByHandle(h, windows.FileAllocationInfo,
		(*byte)(unsafe.Pointer(&end)), uint32(unsafe.Sizeof(end)))
	if err != nil {
		// Wine has no FileAllocationInfo: growing the file still gives fallocate's visible
		// result, but reserving space without growing it (KEEP_SIZE) cannot be done.
		if err != windows.ERROR_CALL_NOT_IMPLEMENTED || op.Arg&fallocKeepSize != 0 {
			return errRes(err)
		}
	}
	if op.Arg&fallocKeepSize == 0 {
		return errRes(setEOF(h, end))
	}
	return 0
}

// resolve makes path absolute against directory handle dir (negative: the current
// directory) and returns it as UTF-16.
func resolve(dir int, path string) (*uint16, error) {
	if dir >= 0 && !filepath.IsAbs(path) {
		base, err := finalPath(windows.Handle(dir))
		if err != nil {
			return nil, err
		}
		path = filepath.Join(base, path)
	}
	if path == "" {
		return nil, syscall.ENOENT
	}
	return windows.UTF16PtrFromString(path)
}

// finalPath returns the path a directory handle was opened with.
func finalPath(h windows.Handle) (string, error) {
	buf := make([]uint16, 512)
	for {
		n, err := windows.GetFinalPathNameByHandle(h, &buf[0], uint32(len(buf)), 0)
		if err != nil {
			return "", err
		}
		if int(n) < len(buf) {
			p := windows.UTF16ToString(buf[:n])
			// GetFinalPathNameByHandle answers with the \\?\ prefix; plain paths are
			// what the rest of the code joins.
			if len(p) > 4 && p[:4] == `\\?\` && p[5] == ':' {
				p = p[4:]
			}
			return p, nil
		}
		buf = make([]uint16, n+1)
	}
}

func pathCall(dir int, path string, call func(*uint16) error) int32 {
	p, err := resolve(dir, path)
	if err != nil {
		return errRes(err)
	}
	return errRes(call(p))
}

// renameat moves Path to Path2 as its Arg says. Arg 0 replaces an existing target, as
// rename(2) does (MOVEFILE_REPLACE_EXISTING); RenameNoReplace calls MoveFileEx without
// that flag, so that an existing target fails the op with EEXIST and is left as it was.
// Windows cannot swap two paths atomically: RenameExchange, like any unknown flag,
// fails with EINVAL before anything is touched, as poller's Rename flags ask.
func renameat(op *poller.Op) int32 {
	var flags uint32
	switch op.Arg {
	case 0:
		flags = windows.MOVEFILE_REPLACE_EXISTING
	case poller.RenameNoReplace:
	default:
		return -int32(syscall.EINVAL)
	}
	from, err := resolve(op.Fd, op.Path)
	if err != nil {
		return errRes(err)
	}
	to, err := resolve(op.Fd2, op.Path2)
	if err != nil {
		return errRes(err)
	}
	return errRes(windows.MoveFileEx(from, to, flags))
}

// openat opens a file overlapped, so that its reads and writes go through the port; the
// new handle is the result.
func openat(op *poller.Op) int32 {
	p, err := resolve(op.Fd, op.Path)
	if err != nil {
		return errRes(err)
	}
	flags := int(op.Arg)
	var access uint32
	switch flags & (syscall.O_RDONLY | syscall.O_WRONLY | syscall.O_RDWR) {
	case syscall.O_RDONLY:
		access = windows.GENERIC_READ
	case syscall.O_WRONLY:
		access = windows.GENERIC_WRITE
	case syscall.O_RDWR:
		access = windows.GENERIC_READ | windows.GENERIC_WRITE
	}
	if flags&syscall.O_APPEND != 0 {
		access &^= windows.GENERIC_WRITE
		access |= windows.FILE_APPEND_DATA
	}
	var create uint32
	switch {
	case flags&(syscall.O_CREAT|syscall.O_EXCL) == syscall.O_CREAT|syscall.O_EXCL:
		create = windows.CREATE_NEW
	case flags&(syscall.O_CREAT|syscall.O_TRUNC) == syscall.O_CREAT|syscall.O_TRUNC:
		create = windows.CREATE_ALWAYS
	case flags&syscall.O_CREAT != 0:
		create = windows.OPEN_ALWAYS
	case flags&syscall.O_TRUNC != 0:
		create = windows.TRUNCATE_EXISTING
	default:
		create = windows.OPEN_EXISTING
	}
	attrs := uint32(windows.FILE_ATTRIBUTE_NORMAL | windows.FILE_FLAG_OVERLAPPED | windows.FILE_FLAG_BACKUP_SEMANTICS)
	if flags&syscall.O_CREAT != 0 && op.Mode&0o200 == 0 {
		attrs |= windows.FILE_ATTRIBUTE_READONLY
	}
	if flags&poller.OpenNoFollow != 0 {
		attrs |= windows.FILE_FLAG_OPEN_REPARSE_POINT // the link itself, refused below
	}
	if flags&poller.OpenDirect != 0 {
		attrs |= windows.FILE_FLAG_NO_BUFFERING // sector-aligned buffers and offsets, as O_DIRECT
	}
	if flags&poller.OpenSync != 0 {
		attrs |= windows.FILE_FLAG_WRITE_THROUGH
	}
	share := uint32(windows.FILE_SHARE_READ | windows.FILE_SHARE_WRITE | windows.FILE_SHARE_DELETE)
	h, err := windows.CreateFile(p, access, share, nil, create, attrs, 0)
	if err != nil {
		if err == windows.ERROR_ACCESS_DENIED && access&(windows.GENERIC_WRITE|windows.FILE_APPEND_DATA) != 0 {
			if a, aerr := windows.GetFileAttributes(p); aerr == nil && a&windows.FILE_ATTRIBUTE_DIRECTORY != 0 {
				return -int32(syscall.EISDIR)
			}
		}
		return errRes(err)
	}
	if uint64(h) > 1<<31-1 {
		windows.CloseHandle(h)
		return -int32(syscall.EMFILE)
	}
	if flags&(poller.OpenDirectory|poller.OpenNoFollow) != 0 {
		if res := checkOpened(h, flags); res != 0 {
			windows.CloseHandle(h)
			return res
		}
	}
	return int32(h)
}

// fileAttributeTagInfo is FILE_ATTRIBUTE_TAG_INFO.
type fileAttributeTagInfo struct {
	attrs, tag uint32
}

// attrTag returns a handle's attributes and, for a reparse point, its tag.
func attrTag(h windows.Handle) (fileAttributeTagInfo, error) {
	var ti fileAttributeTagInfo
	// SAFETY: the call writes at most the struct's size into ti.
	err := windows.GetFileInformationByHandleEx(h, windows.FileAttributeTagInfo, (*byte)(unsafe.Pointer(&ti)), uint32(unsafe.Sizeof(ti)))
	return ti, err
}

// isLink reports whether the attributes name a symbolic link or a junction, what
// Linux's O_NOFOLLOW and AT_SYMLINK_NOFOLLOW stop at.
func isLink(ti fileAttributeTagInfo) bool {
	return ti.attrs&windows.FILE_ATTRIBUTE_REPARSE_POINT != 0 &&
		(ti.tag == windows.IO_REPARSE_TAG_SYMLINK || ti.tag == windows.IO_REPARSE_TAG_MOUNT_POINT)
}

// checkOpened refuses what open(2) refuses for OpenNoFollow (the final component is a
// symbolic link: ELOOP) and OpenDirectory (not a directory: ENOTDIR), once the handle
// is open: CreateFile has no such checks.
func checkOpened(h windows.Handle, flags int) int32 {
	ti, err := attrTag(h)
	if err != nil {
		return errRes(err)
	}
	switch {
	case flags&poller.OpenNoFollow != 0 && isLink(ti):
		return -int32(syscall.ELOOP)
	case flags&poller.OpenDirectory != 0 && ti.attrs&windows.FILE_ATTRIBUTE_DIRECTORY == 0:
		return -int32(syscall.ENOTDIR)
	}
	return 0
}

// statx fills op.Buf, a [poller.Statx], from the handle's file information: the type
// and permission bits as os.Stat derives them (a directory 0777, a file 0666, without
// the write bits when read-only; a symbolic link or junction is ModeSymlink with
// AtSymlinkNoFollow, which opens the link itself), the link count, the size, the file
// index as Ino, the volume serial number as DevMinor, and the access, write and
// creation times. Two fields cost one more call each and are filled only when Mode
// asks for them: Ctime (FILE_BASIC_INFO's ChangeTime; without the request Ctime is
// not in the mask) and Blocks (the allocation size, in 512-byte blocks). Uid and Gid
// are never filled. Mask says what was filled, as the contract asks.
func statx(op *poller.Op) int32 {
	h := windows.Handle(op.Fd)
	if op.Path != "" || op.Arg&atEmptyPath == 0 || op.Fd < 0 {
		p, err := resolve(op.Fd, op.Path)
		if err != nil {
			return errRes(err)
		}
		attrs := uint32(windows.FILE_FLAG_BACKUP_SEMANTICS)
		if op.Arg&poller.AtSymlinkNoFollow != 0 {
			attrs |= windows.FILE_FLAG_OPEN_REPARSE_POINT
		}
		h, err = windows.CreateFile(p, windows.FILE_READ_ATTRIBUTES,
			windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE|windows.FILE_SHARE_DELETE, nil,
			windows.OPEN_EXISTING, attrs, 0)
		if err != nil {
			return errRes(err)
		}
		defer windows.CloseHandle(h)
	}
	var fi windows.ByHandleFileInformation
	if err := windows.GetFileInformationByHandle(h, &fi); err != nil {
		return errRes(err)
	}
	mode := uint16(poller.ModeRegular | 0o666)
	switch {
	case op.Arg&poller.AtSymlinkNoFollow != 0 && fi.FileAttributes&windows.FILE_ATTRIBUTE_REPARSE_POINT != 0:
		if ti, err := attrTag(h); err == nil && isLink(ti) {
			mode = poller.ModeSymlink | 0o777
			break
		}
		fallthrough
	default:
		if fi.FileAttributes&windows.FILE_ATTRIBUTE_DIRECTORY != 0 {
			mode = poller.ModeDir | 0o777
		}
		if fi.FileAttributes&windows.FILE_ATTRIBUTE_READONLY != 0 {
			mode &^= 0o222
		}
	}
	// SAFETY: Validate checked that Buf holds at least StatxSize bytes, 8-byte
	// aligned; the op owns Buf until it completes.
	x := (*poller.Statx)(unsafe.Pointer(&op.Buf[0]))
	*x = poller.Statx{
		Mask: poller.StatxType | poller.StatxMode | poller.StatxNlink | poller.StatxAtime | poller.StatxMtime |
			poller.StatxIno | poller.StatxFileSize | poller.StatxBtime,
		Blksize:  4096,
		Nlink:    fi.NumberOfLinks,
		Mode:     mode,
		Ino:      uint64(fi.FileIndexHigh)<<32 | uint64(fi.FileIndexLow),
		Size:     uint64(fi.FileSizeHigh)<<32 | uint64(fi.FileSizeLow),
		Atime:    statxTime(fi.LastAccessTime),
		Btime:    statxTime(fi.CreationTime),
		Mtime:    statxTime(fi.LastWriteTime),
		DevMinor: fi.VolumeSerialNumber,
	}
	if op.Mode&poller.StatxCtime != 0 {
		var bi fileBasicInfo
		// SAFETY: the call writes at most the struct's size into bi.
		if windows.GetFileInformationByHandleEx(h, windows.FileBasicInfo, (*byte)(unsafe.Pointer(&bi)), uint32(unsafe.Sizeof(bi))) == nil {
			x.Ctime = statxTime(filetime(bi.changeTime))
			x.Mask |= poller.StatxCtime
		}
	}
	if op.Mode&poller.StatxBlocks != 0 {
		var si fileStandardInfo
		// SAFETY: the call writes at most the struct's size into si.
		if windows.GetFileInformationByHandleEx(h, windows.FileStandardInfo, (*byte)(unsafe.Pointer(&si)), uint32(unsafe.Sizeof(si))) == nil {
			x.Blocks = uint64(si.allocationSize+511) / 512
			x.Mask |= poller.StatxBlocks
		}
	}
	return 0
}

// fileBasicInfo is FILE_BASIC_INFO: times as FILETIME counts, and the attributes.
type fileBasicInfo struct {
	creationTime, lastAccessTime, lastWriteTime, changeTime int64
	fileAttributes                                          uint32
	_                                                       uint32
}

// fileStandardInfo is FILE_STANDARD_INFO.
type fileStandardInfo struct {
	allocationSize, endOfFile int64
	numberOfLinks             uint32
	deletePending, directory  bool
	_                         [2]byte
}

func filetime(t int64) windows.Filetime {
	return windows.Filetime{LowDateTime: uint32(t), HighDateTime: uint32(uint64(t) >> 32)}
}

func statxTime(ft windows.Filetime) poller.StatxTimestamp {
	ns := ft.Nanoseconds()
	return poller.StatxTimestamp{Sec: ns / 1e9, Nsec: uint32(ns % 1e9)}
}

// syncRW reads or writes a synchronous or foreign handle, a buffer at a time, stopping
// at a short transfer. A synchronous handle reads and writes at Offset (through an
// OVERLAPPED, which on such a handle only carries the offset), or for Offset -1 at its
// own file pointer, which the call advances. A foreign handle (overlapped, its packets
// going to another port) reads and writes at Offset, or for Offset -1 at its file
// pointer as it is when the op starts (the pointer does not move, and the owning
// driver's tracked position does not either); each call's OVERLAPPED names an event
// with its low-order bit set, so that no packet reaches the other port, and the worker
// waits for the call on it.
func syncRW(j *job, read bool, bufs [][]byte) int32 {
	var done int64
	base := j.op.Offset
	var ev windows.Handle
	if j.foreign {
		if base < 0 {
			p, err := windows.Seek(j.h, 0, 1)
			if err != nil {
				return errRes(err)
			}
			base = p
		}
		var err error
		if ev, err = windows.CreateEvent(nil, 1, 0, nil); err != nil {
			return errRes(err)
		}
		defer windows.CloseHandle(ev)
		ev |= 1 // no completion packet
	}
	for _, b := range bufs {
		if len(b) == 0 {
			continue
		}
		b = clamp(b)
		if int64(len(b)) > math.MaxInt32-done {
			b = b[:math.MaxInt32-done]
		}
		var ov *windows.Overlapped
		if base >= 0 {
			off := base + done
			j.ov = windows.Overlapped{Offset: uint32(off), OffsetHigh: uint32(off >> 32), HEvent: ev}
			ov = &j.ov
		}
		var err error
		if read {
			err = windows.ReadFile(j.h, b, &j.n, ov)
		} else {
			err = windows.WriteFile(j.h, b, &j.n, ov)
		}
		if err == windows.ERROR_IO_PENDING && j.foreign {
			err = windows.GetOverlappedResult(j.h, ov, &j.n, true)
		}
		if read && (err == windows.ERROR_HANDLE_EOF || err == windows.ERROR_BROKEN_PIPE) {
			err, j.n = nil, 0
		}
		if err != nil {
			if done > 0 {
				break
			}
			if err == windows.ERROR_ACCESS_DENIED {
				return resBadf
			}
			return errRes(err)
		}
		done += int64(j.n)
		if int(j.n) < len(b) || done >= math.MaxInt32 {
			break
		}
	}
	return int32(done)
}

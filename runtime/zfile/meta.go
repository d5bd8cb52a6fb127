package zfile

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/zokio/zokio/poller"
	"github.com/zokio/zokio/runtime"
)

// Sync commits the file's data and metadata to stable storage (fsync), as
// os.File.Sync does.
func (f *File) Sync() error { return f.SyncContext(context.Background()) }

// SyncContext is Sync bounded by ctx. An fsync already running in the kernel cannot
// be interrupted: cancelling ctx then returns once it has finished.
func (f *File) SyncContext(ctx context.Context) error {
	return f.simple(orBackground(ctx), "sync", poller.Op{Code: poller.OpFsync})
}

// Datasync commits the file's data, and only the metadata needed to read it back
// (fdatasync).
func (f *File) Datasync() error {
	return f.simple(context.Background(), "datasync", poller.Op{Code: poller.OpFsync, Arg: poller.FsyncDatasync})
}

// Allocate reserves disk space for n bytes at off, extending the file if needed
// (fallocate with mode 0). On macOS and the BSDs, which have no fallocate, it fails
// with EOPNOTSUPP, matching errors.ErrUnsupported.
func (f *File) Allocate(off, n int64) error { return f.Fallocate(0, off, n) }

// Fallocate is fallocate(2) with mode (FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE, ... from
// golang.org/x/sys/unix). Errors name the op "fallocate".
func (f *File) Fallocate(mode uint32, off, n int64) error {
	if f != nil && f.isClosed() {
		return f.wrapErr("fallocate", os.ErrClosed) // as os: a closed file says so first
	}
	if off < 0 || n <= 0 {
		return f.wrapErr("fallocate", syscall.EINVAL) // what the kernel says
	}
	return f.simple(context.Background(), "fallocate", poller.Op{Code: poller.OpFallocate, Arg: mode, Offset: off, Len: n})
}

// Truncate changes the file's size, as os.File.Truncate does.
func (f *File) Truncate(size int64) error {
	if f != nil && f.isClosed() {
		return f.wrapErr("truncate", os.ErrClosed) // as os: a closed file says so first
	}
	if size < 0 {
		return f.wrapErr("truncate", syscall.EINVAL)
	}
	return f.simple(context.Background(), "truncate", poller.Op{Code: poller.OpFtruncate, Len: size})
}

// simple runs a descriptor op that moves no data and wraps its error as op name.
func (f *File) simple(ctx context.Context, name string, op poller.Op) error {
	if f == nil {
		return os.ErrInvalid
	}
	if !f.incref() {
		return f.wrapErr(name, os.ErrClosed)
	}
	defer f.decref()
	op.Fd = f.fd
	if op.Code == poller.OpFsync {
		op.Flags |= f.eager
	}
	if f.fixed >= 0 && op.Code != poller.OpStatx {
		op.Flags |= poller.FlagFixedFile
		op.Fd = int(f.fixed)
	}
	_, err := f.do(ctx, &op)
	return f.wrapErr(name, err)
}

// Stat returns the file's metadata, as os.File.Stat does (statx through the driver).
// The result's Sys method returns a *syscall.Stat_t.
func (f *File) Stat() (fs.FileInfo, error) {
	if f == nil {
		return nil, os.ErrInvalid
	}
	if !f.incref() {
		return nil, f.wrapErr(opFstat, errStatClosed)
	}
	defer f.decref()
	b := new(statBuf)
	op := new(poller.Op)
	statxOp(op, f.fd, "", false, b)
	if _, err := f.do(context.Background(), op); err != nil {
		return nil, f.wrapErr(opFstat, err)
	}
	return b.fileInfo(filepath.Base(f.name)), nil
}

// Stat returns the named file's metadata, as os.Stat does.
func Stat(ctx context.Context, rt *runtime.Runtime, name string) (fs.FileInfo, error) {
	return statPath(ctx, rt, opStat, name, false)
}

// Lstat is Stat without following a final symbolic link, as os.Lstat.
func Lstat(ctx context.Context, rt *runtime.Runtime, name string) (fs.FileInfo, error) {
	return statPath(ctx, rt, opLstat, name, true)
}

func statPath(ctx context.Context, rt *runtime.Runtime, opName, name string, nofollow bool) (fs.FileInfo, error) {
	if name == "" {
		opName = emptyStatOp(opName, nofollow)
	}
	b := new(statBuf)
	op := new(poller.Op)
	statxOp(op, poller.AtFDCWD, name, nofollow, b)
	if _, err := pathOp(ctx, rt, op); err != nil {
		return nil, &os.PathError{Op: opName, Path: name, Err: hostErr(opName, name, err)}
	}
	return b.fileInfo(filepath.Base(name)), nil
}

// Remove removes the named file or empty directory, as os.Remove does (unlinkat, then
// unlinkat with AT_REMOVEDIR).
func Remove(ctx context.Context, rt *runtime.Runtime, name string) error {
	_, err := pathOp(ctx, rt, &poller.Op{Code: poller.OpUnlinkat, Fd: poller.AtFDCWD, Path: name})
	if err == nil {
		return nil
	}
	_, err1 := pathOp(ctx, rt, &poller.Op{Code: poller.OpUnlinkat, Fd: poller.AtFDCWD, Path: name, Arg: poller.AtRemoveDir})
	if err1 == nil {
		return nil
	}
	if err1 != syscall.ENOTDIR { // os's choice of which error explains it
		err = err1
	}
	return &os.PathError{Op: "remove", Path: name, Err: hostErr("remove", name, err)}
}

// Rename renames oldpath to newpath, replacing newpath if it is a file, as os.Rename
// does; errors are *os.LinkError. As os does, it refuses to replace a directory
// (EEXIST).
func Rename(ctx context.Context, rt *runtime.Runtime, oldpath, newpath string) error {
	lerr := func(err error) error {
		p := oldpath
		if newpath == "" {
			p = ""
		}
		return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: hostErr("rename", p, err)}
	}
	if fi, err := Lstat(ctx, rt, newpath); renameChecksDir && err == nil && fi.IsDir() {
		ofi, err := Lstat(ctx, rt, oldpath)
		if err != nil {
			return lerr(err.(*os.PathError).Err)
		}
		if newpath == oldpath || !sameFile(fi, ofi) {
			return lerr(syscall.EEXIST)
		}
	}
	_, err := pathOp(ctx, rt, &poller.Op{Code: poller.OpRenameat, Fd: poller.AtFDCWD, Path: oldpath, Fd2: poller.AtFDCWD, Path2: newpath})
	if err != nil {
		return lerr(err)
	}
	return nil
}

// Mkdir creates a directory, as os.Mkdir does (mkdirat with perm before umask).
func Mkdir(ctx context.Context, rt *runtime.Runtime, name string, perm fs.FileMode) error {
	_, err := pathOp(ctx, rt, &poller.Op{Code: poller.OpMkdirat, Fd: poller.AtFDCWD, Path: name, Mode: syscallMode(perm)})
	if err != nil {
		return &os.PathError{Op: "mkdir", Path: name, Err: hostErr("mkdir", name, err)}
	}
	return nil
}

// pathOp runs a path op on one of rt's loops from the calling goroutine.
func pathOp(ctx context.Context, rt *runtime.Runtime, op *poller.Op) (int, error) {
	switch {
	case rt == nil:
		return 0, errNilRuntime
	case strings.IndexByte(op.Path, 0) >= 0 || strings.IndexByte(op.Path2, 0) >= 0:
		return 0, syscall.EINVAL
	}
	if err := platformErr(); err != nil {
		return 0, err
	}
	loops := rt.Loops()
	res, err := loops[int(nextOpen.Add(1))%len(loops)].Do(orBackground(ctx), op)
	return int(res), err
}

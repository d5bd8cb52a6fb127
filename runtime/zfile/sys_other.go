//go:build !linux && !windows && !darwin && !dragonfly && !freebsd && !netbsd && !openbsd

package zfile

import (
	"errors"
	"fmt"
	"io/fs"
	goruntime "runtime"

	"github.com/zokio/zokio/poller"
	"github.com/zokio/zokio/runtime"
)

const oDirect = 0

// errNoPlatform is what every file operation reports where Zokio has no driver yet.
var errNoPlatform = fmt.Errorf("zfile: no file I/O driver on %s yet: %w", goruntime.GOOS, errors.ErrUnsupported)

func platformErr() error { return errNoPlatform }

func (f *File) tryRead(p []byte, off int64) (int, error) { return 0, errWouldBlock }

func (f *File) tryReadv(bufs [][]byte, off int64) (int, error) { return 0, errWouldBlock }

func seekFd(fd int, off int64, whence int) (int64, error) { return 0, errNoPlatform }

func closeFd(fd int) error { return errNoPlatform }

func zeroWrite(fd int) error { return errNoPlatform }

// statBuf is empty where there is no driver: statPath and File.Stat never get as far
// as using it (opening a file, or creating a runtime, fails first).
type statBuf struct{}

func statxOp(op *poller.Op, dirfd int, path string, nofollow bool, b *statBuf) {
	*op = poller.Op{Code: poller.OpStatx, Fd: dirfd, Path: path}
}

func (b *statBuf) fileInfo(name string) fs.FileInfo { return nil }

func sameFile(a, b fs.FileInfo) bool { return false }

// fixedTable is empty where there is no io_uring: files use plain descriptors.
type fixedTable struct{}

func acquireFixed(ls *loopState, l *runtime.Loop, fd int) int32 { return -1 }

func releaseFixed(ls *loopState, l *runtime.Loop, slot int32) {}

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

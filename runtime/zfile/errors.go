package zfile

import (
	"context"
	"errors"
	"io"
	"os"
	"syscall"
)

// Errors returned with os.File's exact messages, so that callers comparing messages see
// no difference.
var (
	errNegativeOffset      = errors.New("negative offset")
	errWriteAtInAppendMode = errors.New("os: invalid use of WriteAt on file opened with O_APPEND")
)

// errWouldBlock is the fast path's "go to the ring" answer; it never leaves the package.
var errWouldBlock = errors.New("zfile: would block")

// ErrLinkBroken is the error of an op in a Batch chain that did not run because an
// earlier op of its chain failed or was short (io_uring cancels the rest of a chain
// then). errors.Is(err, syscall.ECANCELED) holds.
var ErrLinkBroken error = linkBrokenError{}

type linkBrokenError struct{}

// Error says why the op did not run.
func (linkBrokenError) Error() string {
	return "zfile: linked op not run: an earlier op of its chain failed or was short"
}

// Unwrap returns syscall.ECANCELED, the kernel's completion for such an op.
func (linkBrokenError) Unwrap() error { return syscall.ECANCELED }

// wrapErr gives err os.File's shape: nil and io.EOF pass through, everything else
// becomes an *os.PathError naming op and the file.
func (f *File) wrapErr(op string, err error) error {
	if err == nil || err == io.EOF {
		return err
	}
	return &os.PathError{Op: op, Path: f.name, Err: hostErr(op, f.name, err)}
}

// opErr translates the error of an op run through Loop.Do: a cancellation caused by
// Close reads as os.ErrClosed, one caused by the caller's context as that context's
// error; everything else (a syscall.Errno, the runtime's ErrClosed) is kept.
func (f *File) opErr(ctx context.Context, err error) error {
	if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) &&
		!errors.Is(err, syscall.ECANCELED) {
		return err
	}
	if ctx != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	if f.isClosed() {
		return os.ErrClosed
	}
	return err
}

// errno converts a driver result to an error; res must be negative.
func errno(res int32) error { return syscall.Errno(-res) }

package zfile

import (
	"context"
	"io"
	"os"
	"sync"
	"syscall"
	"unsafe"

	"github.com/zokio/zokio/poller"
	"github.com/zokio/zokio/runtime"
)

// maxRW caps the count of one system call, as os does (1 GiB); it also keeps every
// result within the driver's int32.
const maxRW = 1 << 30

// opPool recycles the ops of goroutine calls. An op goes back only after Loop.Do
// returned without its context ending: when the context ended, Do may leave a late
// cancel task behind that still points to the op, so the op is left to the collector.
var opPool = sync.Pool{New: func() any { return new(poller.Op) }}

// ReadAt reads len(p) bytes starting at off, as os.File.ReadAt does: it returns a
// non-nil error whenever n < len(p), io.EOF at the end of the file. Data in the page
// cache is copied from the calling goroutine; otherwise the read runs through the
// driver and the caller parks until it completes.
func (f *File) ReadAt(p []byte, off int64) (int, error) {
	return f.readAt(context.Background(), p, off)
}

// ReadAtContext is ReadAt bounded by ctx: when ctx ends first the pending read is
// cancelled and ReadAtContext returns what was read with ctx's error (in an
// *os.PathError). A read that completed despite the cancellation keeps its bytes.
func (f *File) ReadAtContext(ctx context.Context, p []byte, off int64) (int, error) {
	return f.readAt(orBackground(ctx), p, off)
}

func orBackground(ctx context.Context) context.Context {
	if ctx == nil {
		return context.Background()
	}
	return ctx
}

func (f *File) readAt(ctx context.Context, p []byte, off int64) (n int, err error) {
	if f == nil {
		return 0, os.ErrInvalid
	}
	if off < 0 {
		return 0, &os.PathError{Op: "readat", Path: f.name, Err: errNegativeOffset}
	}
	if ctx != nil && ctx.Err() != nil && len(p) > 0 {
		return 0, f.wrapErr("read", ctx.Err())
	}
	if f.stream && len(p) > 0 && !f.isClosed() {
		return 0, f.wrapErr("read", syscall.ESPIPE) // as os: a stream has no offsets
	}
	for len(p) > 0 {
		m, e := f.pread(ctx, p, off)
		if e != nil {
			return n, f.wrapErr("read", e)
		}
		n += m
		p = p[m:]
		off += int64(m)
	}
	return n, nil
}

// pread reads once at off (-1: the file position): without blocking if it can, else
// through the home loop. It returns (0, io.EOF) at the end of the file.
func (f *File) pread(ctx context.Context, p []byte, off int64) (int, error) {
	if !f.incref() {
		return 0, os.ErrClosed
	}
	defer f.decref()
	if len(p) > maxRW {
		p = p[:maxRW]
	}
	n, err := f.tryRead(p, off)
	if err == errWouldBlock {
		n, err = f.ringRW(ctx, poller.OpRead, p, off)
	}
	if err == nil && n == 0 {
		err = io.EOF
	}
	return n, err
}

// Read reads up to len(p) bytes at the file position and advances it, as os.File.Read
// does: io.EOF at the end of the file, (0, nil) for an empty p.
func (f *File) Read(p []byte) (int, error) { return f.read(context.Background(), p) }

// ReadContext is Read bounded by ctx (see ReadAtContext).
func (f *File) ReadContext(ctx context.Context, p []byte) (int, error) {
	return f.read(orBackground(ctx), p)
}

func (f *File) read(ctx context.Context, p []byte) (int, error) {
	if f == nil {
		return 0, os.ErrInvalid
	}
	if !f.incref() {
		return 0, f.wrapErr("read", os.ErrClosed)
	}
	defer f.decref()
	f.rmu.Lock()
	defer f.rmu.Unlock()
	if len(p) == 0 {
		return 0, f.wrapErr("read", zeroRead(f.fd)) // os makes the call on Windows
	}
	if !f.stream {
		f.pmu.Lock()
		defer f.pmu.Unlock()
	}
	if ctx != nil && ctx.Err() != nil {
		return 0, f.wrapErr("read", ctx.Err())
	}
	if len(p) > maxRW {
		p = p[:maxRW]
	}
	n, err := f.tryRead(p, -1)
	if err == errWouldBlock {
		n, err = f.ringReadPos(ctx, p)
	}
	if err == nil && n == 0 {
		err = io.EOF
	}
	return n, f.wrapErr("read", err)
}

// ringReadPos reads at the file position through the ring, with an explicit offset
// and a move of the position afterwards, as Write does (see there why).
func (f *File) ringReadPos(ctx context.Context, p []byte) (int, error) {
	pos, err := seekFd(f.fd, 0, io.SeekCurrent)
	if err != nil {
		return f.ringRW(ctx, poller.OpRead, p, -1) // a stream: no position
	}
	n, err := f.ringRW(ctx, poller.OpRead, p, pos)
	if n > 0 {
		if _, serr := seekFd(f.fd, pos+int64(n), io.SeekStart); serr != nil && err == nil {
			err = serr
		}
	}
	return n, err
}

// WriteAt writes p at off, as os.File.WriteAt does: all of p or an error; an error
// for a file opened with O_APPEND. It runs through the driver; the caller parks.
// Like os.File.WriteAt, it reports n = 0 when the write fails, even if part of p
// reached the file first (a file size limit, a full disk); Write, WriteAtOn and Batch
// report the part.
func (f *File) WriteAt(p []byte, off int64) (int, error) {
	return f.writeAt(context.Background(), p, off)
}

// WriteAtContext is WriteAt bounded by ctx: when ctx ends first the pending write is
// cancelled and WriteAtContext fails with ctx's error.
func (f *File) WriteAtContext(ctx context.Context, p []byte, off int64) (int, error) {
	return f.writeAt(orBackground(ctx), p, off)
}

// writeAt has os.File.WriteAt's shape: one pwriteAll per iteration, whose partial count
// is dropped when it fails.
func (f *File) writeAt(ctx context.Context, p []byte, off int64) (n int, err error) {
	if f == nil {
		return 0, os.ErrInvalid
	}
	if f.append {
		return 0, errWriteAtInAppendMode
	}
	if off < 0 {
		return 0, &os.PathError{Op: "writeat", Path: f.name, Err: errNegativeOffset}
	}
	if f.stream && len(p) > 0 && !f.isClosed() {
		return 0, f.wrapErr("write", syscall.ESPIPE)
	}
	for len(p) > 0 {
		m, e := f.pwriteAll(ctx, p, off)
		if e != nil {
			return n, f.wrapErr("write", e)
		}
		n += m
		p = p[m:]
		off += int64(m)
	}
	return n, nil
}

// pwriteAll writes all of p at off, as internal/poll's FD.Pwrite does: it returns the
// bytes written and the error that stopped it.
func (f *File) pwriteAll(ctx context.Context, p []byte, off int64) (int, error) {
	if !f.incref() {
		return 0, os.ErrClosed
	}
	defer f.decref()
	nn := 0
	for nn < len(p) {
		m, err := f.ringRW(ctx, poller.OpWrite, p[nn:min(len(p), nn+maxRW)], off+int64(nn))
		nn += m
		if err != nil {
			return nn, err
		}
		if m == 0 {
			return nn, io.ErrUnexpectedEOF // a write that makes no progress
		}
	}
	return nn, nil
}

// Write writes p at the file position (at the end with O_APPEND) and advances it, as
// os.File.Write does: all of p or an error.
func (f *File) Write(p []byte) (int, error) { return f.write(context.Background(), p) }

// WriteContext is Write bounded by ctx (see WriteAtContext).
func (f *File) WriteContext(ctx context.Context, p []byte) (int, error) {
	return f.write(orBackground(ctx), p)
}

// WriteString is like Write, but writes the contents of string s.
func (f *File) WriteString(s string) (int, error) {
	// SAFETY: the write only reads the bytes, and the op holds the string's memory
	// until it completes; os.File.WriteString does the same.
	return f.write(context.Background(), unsafe.Slice(unsafe.StringData(s), len(s)))
}

func (f *File) write(ctx context.Context, p []byte) (n int, err error) {
	if f == nil {
		return 0, os.ErrInvalid
	}
	if !f.incref() {
		return 0, f.wrapErr("write", os.ErrClosed)
	}
	defer f.decref()
	f.wmu.Lock()
	defer f.wmu.Unlock()
	if !f.stream {
		f.pmu.Lock()
		defer f.pmu.Unlock()
	}
	var e error
	if len(p) == 0 {
		e = zeroWrite(f.fd) // os makes the call too: a read-only file says EBADF
	}
	// Write at explicit offsets from the file position, then move the position: the
	// ring's "current position" mode loses track of it after a short write (seen with
	// RLIMIT_FSIZE on Linux 6.18: the position stays, and the retry rewrites the same
	// bytes). Appends keep the kernel's mode, which ignores the position anyway;
	// streams (ESPIPE) have no position.
	pos := int64(-1)
	if !f.append && len(p) > 0 {
		if cur, err := seekFd(f.fd, 0, io.SeekCurrent); err == nil {
			pos = cur
		}
	}
	for n < len(p) {
		off := pos
		if pos >= 0 {
			off = pos + int64(n)
		}
		m, we := f.ringRW(ctx, poller.OpWrite, p[n:min(len(p), n+maxRW)], off)
		n += m
		if we == nil && m == 0 {
			we = io.ErrUnexpectedEOF
		}
		if we != nil {
			e = we
			break
		}
	}
	if pos >= 0 && n > 0 {
		if _, err := seekFd(f.fd, pos+int64(n), io.SeekStart); err != nil && e == nil {
			e = err
		}
	} else if f.append && n > 0 {
		afterAppend(f.fd)
	}
	if n != len(p) {
		err = io.ErrShortWrite
	}
	if e != nil {
		err = f.wrapErr("write", e)
	}
	return n, err
}

// Seek sets the file position, as os.File.Seek does (io.SeekStart, io.SeekCurrent,
// io.SeekEnd), and returns the new position. It is a cheap system call that never
// waits for the device, so it runs in the calling goroutine.
func (f *File) Seek(offset int64, whence int) (int64, error) {
	if f == nil {
		return 0, os.ErrInvalid
	}
	if !f.incref() {
		return 0, f.wrapErr("seek", os.ErrClosed)
	}
	defer f.decref()
	if !f.stream {
		f.pmu.Lock()
		defer f.pmu.Unlock()
	}
	r, err := seekFd(f.fd, offset, whence)
	if err != nil {
		return 0, f.wrapErr("seek", err)
	}
	return r, nil
}

// ringRW runs one read or write on the home loop and parks until it completes.
func (f *File) ringRW(ctx context.Context, code poller.Opcode, p []byte, off int64) (int, error) {
	op := opPool.Get().(*poller.Op)
	*op = poller.Op{Code: code, Flags: f.eager, Fd: f.fd, Buf: p, Offset: off}
	f.useRegistered(op, f.loop)
	return f.do(ctx, op)
}

// do runs op on the home loop with Loop.Do, under a context that ends when ctx does
// or when Close begins, and recycles op when that is safe (see opPool). The caller
// holds a reference (incref).
func (f *File) do(ctx context.Context, op *poller.Op) (int, error) {
	if f.isClosed() {
		return 0, os.ErrClosed
	}
	c := f.closeCtx
	var cancel context.CancelFunc
	var stop func() bool
	if ctx != nil && ctx.Done() != nil {
		// Both ctx and Close must end the op. This costs a few allocations, only for
		// calls with a cancellable context; plain calls use closeCtx alone.
		c, cancel = context.WithCancel(ctx)
		stop = context.AfterFunc(f.closeCtx, cancel)
	}
	res, err := f.loop.Do(c, op)
	reuse := c.Err() == nil
	if cancel != nil {
		stop()
		cancel()
	}
	if reuse {
		*op = poller.Op{}
		opPool.Put(op)
	}
	if err != nil {
		return 0, f.opErr(ctx, err)
	}
	return int(res), nil
}

// useRegistered makes op use the file's registered slot when it runs on the home
// loop, and the registered buffer of l's arena when its buffer lies in one.
func (f *File) useRegistered(op *poller.Op, l *runtime.Loop) {
	if f.fixed >= 0 && l == f.loop {
		op.Flags |= poller.FlagFixedFile
		op.Fd = int(f.fixed)
	}
	if op.Code == poller.OpRead || op.Code == poller.OpWrite {
		if idx, ok := l.RegisteredBuffer(op.Buf); ok {
			op.Flags |= poller.FlagFixedBuffer
			op.BufIndex = idx
		}
	}
}

// ReadvAt reads into bufs, in order, starting at off (preadv): ReadAt over the buffers
// as if they were one. It returns a non-nil error whenever it filled less than their
// total length, io.EOF at the end of the file. The caller's slice of buffers is never
// modified.
func (f *File) ReadvAt(bufs [][]byte, off int64) (n int, err error) {
	return f.vecAt(poller.OpReadv, bufs, off)
}

// WritevAt writes bufs, in order, starting at off (pwritev): WriteAt of their
// concatenation, all of it or an error. Unlike WriteAt it reports the bytes that
// reached the file before an error.
func (f *File) WritevAt(bufs [][]byte, off int64) (n int, err error) {
	if f != nil && f.append {
		return 0, errWriteAtInAppendMode
	}
	return f.vecAt(poller.OpWritev, bufs, off)
}

func (f *File) vecAt(code poller.Opcode, bufs [][]byte, off int64) (n int, err error) {
	name := "read"
	if code == poller.OpWritev {
		name = "write"
	}
	if f == nil {
		return 0, os.ErrInvalid
	}
	if off < 0 {
		return 0, &os.PathError{Op: name + "at", Path: f.name, Err: errNegativeOffset}
	}
	if f.stream && total(bufs) > 0 && !f.isClosed() {
		return 0, f.wrapErr(name, syscall.ESPIPE)
	}
	owned := false // bufs is still the caller's slice
	for {
		bufs = skipEmpty(bufs)
		if len(bufs) == 0 {
			return n, nil
		}
		m, e := f.vecOnce(code, bufs, off)
		if e != nil {
			return n, f.wrapErr(name, e)
		}
		n += m
		off += int64(m)
		bufs, owned = consume(bufs, m, owned)
	}
}

// maxIovecs is the most buffers one preadv or pwritev takes (poller.MaxBufs, Linux's
// UIO_MAXIOV). Go's net.Buffers splits its writev calls the same way.
const maxIovecs = poller.MaxBufs

// vecOnce is one preadv or pwritev of at most maxRW bytes in at most maxIovecs buffers.
func (f *File) vecOnce(code poller.Opcode, bufs [][]byte, off int64) (int, error) {
	if !f.incref() {
		return 0, os.ErrClosed
	}
	defer f.decref()
	if len(bufs) > maxIovecs {
		bufs = bufs[:maxIovecs]
	}
	if total(bufs) > maxRW {
		bufs = limit(bufs, maxRW)
	}
	var m int
	err := errWouldBlock
	if code == poller.OpReadv {
		m, err = f.tryReadv(bufs, off)
	}
	if err == errWouldBlock {
		op := opPool.Get().(*poller.Op)
		*op = poller.Op{Code: code, Flags: f.eager, Fd: f.fd, Bufs: bufs, Offset: off}
		f.useRegistered(op, f.loop)
		m, err = f.do(context.Background(), op)
	}
	if err == nil && m == 0 {
		if code == poller.OpReadv {
			err = io.EOF
		} else {
			err = io.ErrUnexpectedEOF
		}
	}
	return m, err
}

func total(bufs [][]byte) int {
	t := 0
	for _, b := range bufs {
		t += len(b)
	}
	return t
}

func skipEmpty(bufs [][]byte) [][]byte {
	for len(bufs) > 0 && len(bufs[0]) == 0 {
		bufs = bufs[1:]
	}
	for len(bufs) > 0 && len(bufs[len(bufs)-1]) == 0 {
		bufs = bufs[:len(bufs)-1]
	}
	return bufs
}

// consume drops the first m bytes of bufs; it copies the list before trimming a buffer
// in it, so that the caller's slice stays untouched.
func consume(bufs [][]byte, m int, owned bool) ([][]byte, bool) {
	for m > 0 && len(bufs) > 0 && m >= len(bufs[0]) {
		m -= len(bufs[0])
		bufs = bufs[1:]
	}
	if m > 0 && len(bufs) > 0 {
		if !owned {
			bufs, owned = append([][]byte(nil), bufs...), true
		}
		bufs[0] = bufs[0][m:]
	}
	return bufs, owned
}

// limit returns the first n bytes of bufs, as a new list.
func limit(bufs [][]byte, n int) [][]byte {
	var out [][]byte
	for _, b := range bufs {
		if n == 0 {
			break
		}
		b = b[:min(len(b), n)]
		out = append(out, b)
		n -= len(b)
	}
	return out
}

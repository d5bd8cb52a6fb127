package znet

import (
	"io"
	"math"
	"net"
	"os"
	"sync/atomic"
	"syscall"

	"github.com/zokio/zokio/poller"
	"github.com/zokio/zokio/runtime"
)

// io.ReaderFrom and io.WriterTo for NetConn, so that io.Copy between a connection and
// a file or another connection moves the bytes inside the kernel where the driver has
// poller.FeatSplice (Linux: io_uring and epoll): a splice from the source into a pipe,
// and from the pipe to the destination, as Go's net does with splice(2). Serving a
// file (http.FileServer, io.Copy(conn, file)) and proxying between two connections
// then never copies through user space. Elsewhere, and for other readers and writers,
// they copy through a buffer as io.Copy would.
//
// All splices of one call run on one loop: the one of the NetConn whose method it is.
// A descriptor that loop does not own (a file, a connection on another loop) is
// duplicated for the call and the duplicate closed through that loop's driver, so no
// driver keeps state about a number that someone else closes.

var (
	_ io.ReaderFrom = (*NetConn)(nil)
	_ io.WriterTo   = (*NetConn)(nil)
)

// canSplice reports whether c's loop can splice.
func (c *NetConn) canSplice() bool {
	return c.l.Driver().Info().Features.Has(poller.FeatSplice)
}

// ReadFrom copies from r to the connection until r's EOF (or, for an
// *io.LimitedReader, its limit) and returns the bytes written, as io.Copy(c, r)
// would. When r is an *os.File of a regular file (or a value embedding one, as
// os.File.WriteTo passes to io.Copy) or another *NetConn, either possibly behind an
// *io.LimitedReader, and the driver has poller.FeatSplice, the bytes move in the
// kernel, never through user space. Errors are *net.OpError values, with Op
// "readfrom" on the splice path.
func (c *NetConn) ReadFrom(r io.Reader) (int64, error) {
	if !c.ref.incref() {
		return 0, c.opErr("readfrom", net.ErrClosed)
	}
	defer c.release()
	remain, src := int64(math.MaxInt64), r
	lr, _ := r.(*io.LimitedReader)
	if lr != nil {
		if lr.N <= 0 {
			return 0, nil
		}
		remain, src = lr.N, lr.R
	}
	if c.canSplice() {
		var n int64
		var err error
		handled := false
		switch s := src.(type) {
		case *NetConn:
			if s != c {
				n, err, handled = c.spliceFromConn(s, remain)
			}
		case fileLike:
			// *os.File, or what os.File.WriteTo hands io.Copy (a struct embedding
			// the *os.File): io.Copy(c, file) arrives here that way.
			n, err, handled = c.spliceFromFile(s, remain)
		}
		if handled {
			if lr != nil {
				lr.N -= n
			}
			return n, err
		}
	}
	return io.Copy(writerOnly{c}, r)
}

// WriteTo copies from the connection to w until EOF and returns the bytes written,
// as io.Copy(w, c) would. When w is an *os.File of a regular file (not in append
// mode) or another *NetConn and the driver has poller.FeatSplice, the bytes move in
// the kernel: first what Read had read ahead, then straight from the socket. After a
// spliced WriteTo, Read receives with single ops.
func (c *NetConn) WriteTo(w io.Writer) (int64, error) {
	if !c.ref.incref() {
		return 0, c.opErr("writeto", net.ErrClosed)
	}
	defer c.release()
	if c.canSplice() {
		switch d := w.(type) {
		case *NetConn:
			if d != c {
				return c.spliceToConn(d)
			}
		case *os.File:
			if n, err, handled := c.spliceToFile(d); handled {
				return n, err
			}
		}
	}
	return io.Copy(w, readerOnly{c})
}

// splicedBytes counts the bytes splices moved to their destination (tests read it).
var splicedBytes atomic.Int64

// writerOnly and readerOnly hide ReadFrom and WriteTo from io.Copy's fallback.
type writerOnly struct{ io.Writer }
type readerOnly struct{ io.Reader }

// fileLike is an *os.File, or a value embedding one.
type fileLike interface {
	SyscallConn() (syscall.RawConn, error)
	Stat() (os.FileInfo, error)
	Write(p []byte) (int, error)
}

// spliceFromFile splices a regular file, from its position on, to c.
func (c *NetConn) spliceFromFile(f fileLike, remain int64) (int64, error, bool) {
	fd, ok := fileDup(f, false)
	if !ok {
		return 0, nil, false
	}
	defer func() { _ = closeThrough(c.l, fd) }()
	c.wmu.Lock()
	defer c.wmu.Unlock()
	n, err := spliceCopy(c.l, fd, &c.wd, c.fd, &c.wd, remain)
	if err != nil {
		err = c.opErr("readfrom", err)
	}
	return n, err, true
}

// fileDup duplicates the descriptor of f, a regular file (for a destination, one
// splice can write: not in append mode). ok is false if f is none of that.
func fileDup(f fileLike, dest bool) (int, bool) {
	rc, err := f.SyscallConn()
	if err != nil {
		return -1, false
	}
	fd := -1
	if rc.Control(func(x uintptr) { fd, _ = dupFd(int(x)) }) != nil || fd < 0 {
		return -1, false
	}
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() || dest && appendOnly(fd) {
		_ = closeFd(fd) // no driver has seen it
		return -1, false
	}
	return fd, true
}

// spliceFromConn splices from s to c: first what s had read ahead (written as
// usual), then from s's socket.
func (c *NetConn) spliceFromConn(s *NetConn, remain int64) (int64, error, bool) {
	if !s.ref.incref() {
		return 0, c.opErr("readfrom", net.ErrClosed), true
	}
	defer s.release()
	s.rmu.Lock()
	defer s.rmu.Unlock()
	s.rr.handoff()
	var n int64
	done, err := s.drainReadAhead(&remain, func(p []byte) error {
		m, err := c.Write(p)
		n += int64(m)
		return err
	})
	if done || err != nil {
		return n, err, true
	}
	fd, err := s.fdOn(c.l)
	if err != nil {
		return n, c.opErr("readfrom", err), true
	}
	if fd != s.fd {
		defer func() { _ = closeThrough(c.l, fd) }()
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	m, err := spliceCopy(c.l, fd, &s.rd, c.fd, &c.wd, remain)
	if err != nil {
		err = c.opErr("readfrom", err)
	}
	return n + m, err, true
}

// spliceToConn splices from c to d: what c had read ahead, then from c's socket.
func (c *NetConn) spliceToConn(d *NetConn) (int64, error) {
	if !d.ref.incref() {
		return 0, d.opErr("write", net.ErrClosed)
	}
	defer d.release()
	c.rmu.Lock()
	defer c.rmu.Unlock()
	c.rr.handoff()
	var n int64
	remain := int64(math.MaxInt64)
	done, err := c.drainReadAhead(&remain, func(p []byte) error {
		m, err := d.Write(p)
		n += int64(m)
		return err
	})
	if done || err != nil {
		return n, err
	}
	fd, err := d.fdOn(c.l)
	if err != nil {
		return n, c.opErr("writeto", err)
	}
	if fd != d.fd {
		defer func() { _ = closeThrough(c.l, fd) }()
	}
	d.wmu.Lock()
	defer d.wmu.Unlock()
	m, err := spliceCopy(c.l, c.fd, &c.rd, fd, &d.wd, remain)
	if err != nil {
		err = c.opErr("writeto", err)
	}
	return n + m, err
}

// spliceToFile splices from c to a regular file at its position.
func (c *NetConn) spliceToFile(f *os.File) (int64, error, bool) {
	fd, ok := fileDup(f, true)
	if !ok {
		return 0, nil, false
	}
	defer func() { _ = closeThrough(c.l, fd) }()
	c.rmu.Lock()
	defer c.rmu.Unlock()
	c.rr.handoff()
	var n int64
	remain := int64(math.MaxInt64)
	done, err := c.drainReadAhead(&remain, func(p []byte) error {
		m, err := f.Write(p)
		n += int64(m)
		return err
	})
	if done || err != nil {
		return n, err, true
	}
	m, err := spliceCopy(c.l, c.fd, &c.rd, fd, &c.rd, remain)
	if err != nil {
		err = c.opErr("writeto", err)
	}
	return n + m, err, true
}

// fdOn returns c's descriptor for ops on loop l: its own on its loop, a duplicate
// (which the caller closes through l) elsewhere.
func (c *NetConn) fdOn(l *runtime.Loop) (int, error) {
	if l == c.l {
		return c.fd, nil
	}
	return dupFd(c.fd)
}

// drainReadAhead hands what c's reader holds to write, at most *remain bytes, after
// a handoff (c.rmu held). done is true when the stream ended there: EOF, or an error,
// which it returns.
func (c *NetConn) drainReadAhead(remain *int64, write func([]byte) error) (bool, error) {
	var buf [16 << 10]byte
	for *remain > 0 {
		n, st, err := c.rr.take(buf[:min(int64(len(buf)), *remain)])
		switch st {
		case readGot:
			*remain -= int64(n)
			if err := write(buf[:n]); err != nil {
				return true, err
			}
			continue
		case readEnd:
			if err == io.EOF {
				return true, nil
			}
			return true, c.opErr("read", err)
		}
		return false, nil // empty, and single ops serve from here
	}
	return true, nil
}

// spliceCopy moves up to remain bytes from src to dst through a pipe, with ops on l:
// a splice into the pipe within srcDl, then splices out of it within dstDl until the
// pipe is empty, until src's EOF. It returns the bytes that reached dst.
func spliceCopy(l *runtime.Loop, src int, srcDl *deadline, dst int, dstDl *deadline, remain int64) (int64, error) {
	pr, pw, size, err := newPipe()
	if err != nil {
		return 0, err
	}
	defer func() {
		_ = closeThrough(l, pr)
		_ = closeThrough(l, pw)
	}()
	var in, out opSlot
	var written int64
	for remain > 0 {
		res, err := in.do(l, srcDl, poller.Op{Code: poller.OpSplice, Fd: src, Fd2: pw, Offset: -1, Len: min(remain, int64(size))})
		switch {
		case isAgain(err):
			continue // a readiness taken by someone else: the splice waits again
		case err != nil:
			return written, mapErr(srcDl, "splice", err)
		case res == 0:
			return written, nil
		}
		remain -= int64(res)
		for left := int64(res); left > 0; {
			m, err := out.do(l, dstDl, poller.Op{Code: poller.OpSplice, Fd: pr, Fd2: dst, Offset: -1, Len: left})
			switch {
			case isAgain(err):
				continue
			case err != nil:
				return written, mapErr(dstDl, "splice", err)
			}
			left -= int64(m)
			written += int64(m)
			splicedBytes.Add(int64(m))
		}
	}
	return written, nil
}

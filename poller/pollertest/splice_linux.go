package pollertest

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/zokio/zokio/poller"
)

// Scenarios for OpSplice (drivers with FeatSplice: Linux's io_uring and epoll).
func init() {
	register("SpliceSocketPipeSocket", testSpliceSocketPipeSocket)
	register("SpliceFileToSocket", testSpliceFileToSocket)
	register("SpliceEOF", testSpliceEOF)
	register("SpliceCancelAndClose", testSpliceCancelAndClose)
	register("SpliceBadInput", testSpliceBadInput)
}

func spliceRec(t *testing.T, from, to int, off, n int64) *rec {
	return newRec(t, poller.Op{Code: poller.OpSplice, Fd: from, Fd2: to, Offset: off, Len: n})
}

// testSpliceSocketPipeSocket: a splice from a socket waits for data, moves it into a
// pipe, and a second splice moves it on to another socket (a proxy's path).
func testSpliceSocketPipeSocket(t *testing.T, nd NewDriver) {
	h, fds := start(t, nd), newFDs(t)
	h.require(poller.FeatSplice)
	src, peer := fds.tcpPair()
	dst, sink := fds.tcpPair()
	pr, pw := fds.pipe()
	in := spliceRec(t, src, pw, -1, 64<<10)
	h.submit(&in.op)
	h.quiet(10*time.Millisecond, in)
	msg := bytes.Repeat([]byte("splice!"), 1000)
	write(t, peer, msg)
	h.until("splice from the socket", in.isFinal)
	n := in.ok()
	if n <= 0 || n > len(msg) {
		t.Fatalf("splice moved %d bytes of %d", n, len(msg))
	}
	got := 0
	for got < n {
		out := h.run(spliceRec(t, pr, dst, -1, int64(n-got)))
		got += out.ok()
	}
	buf := make([]byte, len(msg))
	m := 0
	for m < n {
		m += readNow(t, sink, buf[m:n])
	}
	if !bytes.Equal(buf[:n], msg[:n]) {
		t.Fatalf("the sink got %q..., want %q...", buf[:min(n, 16)], msg[:16])
	}
}

// testSpliceFileToSocket: a splice from a regular file at an offset into a pipe, and
// from the pipe to a socket, as a file server sends a file.
func testSpliceFileToSocket(t *testing.T, nd NewDriver) {
	h, fds := start(t, nd), newFDs(t)
	h.require(poller.FeatSplice)
	data := make([]byte, 200<<10)
	for i := range data {
		data[i] = byte(i * 7)
	}
	name := filepath.Join(tempDir(t), "f")
	fatalIf(t, os.WriteFile(name, data, 0o600), "write file")
	f, err := unix.Open(name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	file := fds.made(f, err, "open")
	dst, sink := fds.tcpPair()
	pr, pw := fds.pipe()
	const off, want = 1000, 40000 // within the pipe's default 64 KiB
	in := h.run(spliceRec(t, file, pw, off, want))
	if n := in.ok(); n != want {
		t.Fatalf("splice from the file moved %d, want %d", n, want)
	}
	moved := 0
	for moved < want {
		moved += h.run(spliceRec(t, pr, dst, -1, int64(want-moved))).ok()
	}
	buf := make([]byte, want)
	for m := 0; m < want; {
		m += readNow(t, sink, buf[m:])
	}
	if !bytes.Equal(buf, data[off:off+want]) {
		t.Fatal("the socket got other bytes than the file's")
	}
	// The offset was given: the file position has not moved.
	if pos, err := unix.Seek(file, 0, 1); err != nil || pos != 0 {
		t.Fatalf("file position %d (%v) after a splice at an offset", pos, err)
	}
	// At the end of the file a splice moves nothing.
	eof := h.run(spliceRec(t, file, pw, int64(len(data)), 100))
	if n := eof.ok(); n != 0 {
		t.Fatalf("splice past the end moved %d", n)
	}
}

// testSpliceEOF: a splice from a socket whose peer shut down completes with 0.
func testSpliceEOF(t *testing.T, nd NewDriver) {
	h, fds := start(t, nd), newFDs(t)
	h.require(poller.FeatSplice)
	src, peer := fds.tcpPair()
	_, pw := fds.pipe()
	in := spliceRec(t, src, pw, -1, 4096)
	h.submit(&in.op)
	h.quiet(5*time.Millisecond, in)
	shutdownWrite(t, peer)
	h.until("splice at EOF", in.isFinal)
	if n := in.ok(); n != 0 {
		t.Fatalf("splice at EOF moved %d", n)
	}
}

// testSpliceCancelAndClose: a waiting splice is cancelled by Cancel, and by an
// OpClose of its source (C4), which completes after it.
func testSpliceCancelAndClose(t *testing.T, nd NewDriver) {
	h, fds := start(t, nd), newFDs(t)
	h.require(poller.FeatSplice)
	src, _ := fds.tcpPair()
	_, pw := fds.pipe()
	in := spliceRec(t, src, pw, -1, 4096)
	h.submit(&in.op)
	h.quiet(5*time.Millisecond, in)
	if err := h.d.Cancel(&in.op); err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	h.until("cancelled splice", in.isFinal)
	wantErrno(t, "cancelled splice", in.only(), syscall.ECANCELED, syscall.EINTR)

	in2 := spliceRec(t, src, pw, -1, 4096)
	h.submit(&in2.op)
	h.quiet(5*time.Millisecond, in2)
	var order []string
	in2.op.Done = func(op *poller.Op) { order = append(order, "splice"); in2.done(op) }
	cl := newRec(t, poller.Op{Code: poller.OpClose, Fd: src})
	cl.op.Done = func(op *poller.Op) { order = append(order, "close"); cl.done(op) }
	fds.forget(src)
	h.run(cl).ok()
	if len(order) != 2 || order[1] != "close" {
		t.Fatalf("completion order %v, want the splice, then the close", order)
	}
	if c := in2.only(); c.Res > 0 {
		t.Fatalf("splice from a closed socket moved %d", c.Res)
	}
}

// testSpliceBadInput: Submit refuses a splice without a length or with one over
// MaxRW, and unknown flags; a bad descriptor completes with EBADF.
func testSpliceBadInput(t *testing.T, nd NewDriver) {
	h, fds := start(t, nd), newFDs(t)
	h.require(poller.FeatSplice)
	pr, pw := fds.pipe()
	for _, op := range []poller.Op{
		{Code: poller.OpSplice, Fd: pr, Fd2: pw, Offset: -1, Len: 0},
		{Code: poller.OpSplice, Fd: pr, Fd2: pw, Offset: -1, Len: poller.MaxRW + 1},
		{Code: poller.OpSplice, Fd: pr, Fd2: pw, Offset: -1, Len: 10, Arg: 1 << 20},
		{Code: poller.OpSplice, Fd: pr, Fd2: pw, Offset: -2, Len: 10},
	} {
		r := newRec(t, op)
		var inv *poller.InvalidOpError
		if err := h.d.Submit(&r.op); !errors.As(err, &inv) {
			t.Errorf("Submit(splice Len %d Arg %#x Offset %d): %v, want an *InvalidOpError", op.Len, op.Arg, op.Offset, err)
		}
	}
	bad := h.run(spliceRec(t, 1<<20, pw, -1, 10))
	wantErrno(t, "splice from a bad descriptor", bad.only(), syscall.EBADF)
}

//go:build unix

package znet

import (
	"bytes"
	"testing"

	"golang.org/x/sys/unix"
)

// TestDirectCallsThroughXSys runs the direct calls macOS and OpenBSD make (x/sys's
// Recvfrom and SendmsgN, libc there) on a real socket pair here: EAGAIN when nothing
// is there or the buffer is full, the bytes in order, 0 at EOF, EPIPE (no signal)
// once the peer is gone, EBADF for no descriptor.
func TestDirectCallsThroughXSys(t *testing.T) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	a, b := fds[0], fds[1]
	defer unix.Close(a)
	buf := make([]byte, 64)
	if n, errno := xsysRecv(a, buf); errno != unix.EAGAIN || n != 0 {
		t.Fatalf("recv on an empty socket: %d, %v; want EAGAIN", n, errno)
	}
	if n, errno := xsysSend(b, []byte("hello"), unix.MSG_NOSIGNAL); errno != 0 || n != 5 {
		t.Fatalf("send: %d, %v", n, errno)
	}
	if n, errno := xsysRecv(a, buf); errno != 0 || !bytes.Equal(buf[:n], []byte("hello")) {
		t.Fatalf("recv: %q, %v", buf[:n], errno)
	}
	// Fill b's buffer: the send that finds no room says EAGAIN instead of waiting.
	chunk := make([]byte, 64<<10)
	total := 0
	for {
		n, errno := xsysSend(b, chunk, unix.MSG_NOSIGNAL)
		if errno == unix.EAGAIN {
			break
		}
		if errno != 0 {
			t.Fatalf("send after %d bytes: %v", total, errno)
		}
		total += n
		if total > 64<<20 {
			t.Fatal("a socket buffer took 64 MiB without EAGAIN")
		}
	}
	for got := 0; got < total; {
		n, errno := xsysRecv(a, chunk)
		if errno != 0 || n == 0 {
			t.Fatalf("draining after %d of %d bytes: %d, %v", got, total, n, errno)
		}
		got += n
	}
	unix.Close(b)
	if n, errno := xsysRecv(a, buf); errno != 0 || n != 0 {
		t.Fatalf("recv after the peer closed: %d, %v; want 0 (EOF)", n, errno)
	}
	if _, errno := xsysSend(a, []byte("x"), unix.MSG_NOSIGNAL); errno != unix.EPIPE {
		t.Fatalf("send to a closed peer: %v; want EPIPE", errno)
	}
	if _, errno := xsysRecv(-1, buf); errno != unix.EBADF {
		t.Fatalf("recv on no descriptor: %v; want EBADF", errno)
	}
}

package iocp_test

import (
	"errors"
	"net"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/zokio/zokio/iocp"
	"github.com/zokio/zokio/poller"
)

// A handle is associated with one completion port for its life. A file that driver A
// opened is read and written from driver B through B's workers, at offsets; a socket
// that A holds is refused by B's Submit with a *ForeignHandleError, and A keeps using
// it. Nothing is lost: every op completes on the driver it was submitted to.
func TestForeignHandle(t *testing.T) {
	a, b := newDriver(t), newDriver(t)
	path := filepath.Join(tempDir(t), "f")
	f := openFile(t, a, path, syscall.O_RDWR|syscall.O_CREAT|syscall.O_TRUNC)
	if res := run(t, b, newRec(poller.Op{Code: poller.OpWrite, Fd: int(f), Buf: []byte("hello, world"), Offset: 0})); res != 12 {
		t.Fatalf("write on B = %d (%v)", res, errOf(res))
	}
	buf := make([]byte, 5)
	if res := run(t, a, newRec(poller.Op{Code: poller.OpRead, Fd: int(f), Buf: buf, Offset: 7})); res != 5 || string(buf) != "world" {
		t.Fatalf("read on A = %d %q", res, buf)
	}
	x, y := make([]byte, 3), make([]byte, 20)
	if res := run(t, b, newRec(poller.Op{Code: poller.OpReadv, Fd: int(f), Bufs: [][]byte{x, y}, Offset: 2})); res != 10 ||
		string(x)+string(y[:7]) != "llo, world" {
		t.Fatalf("readv on B = %d %q %q", res, x, y)
	}
	if res := run(t, b, newRec(poller.Op{Code: poller.OpRead, Fd: int(f), Buf: buf, Offset: 100})); res != 0 {
		t.Fatalf("read past the end on B = %d (%v), want 0", res, errOf(res))
	}
	if res := run(t, b, newRec(poller.Op{Code: poller.OpFsync, Fd: int(f)})); res != 0 {
		t.Fatalf("fsync on B: %v", errOf(res))
	}
	// A's own ops still complete on A.
	if res := run(t, a, newRec(poller.Op{Code: poller.OpWrite, Fd: int(f), Buf: []byte("!"), Offset: 12})); res != 1 {
		t.Fatalf("write on A = %d (%v)", res, errOf(res))
	}
	closeOp(t, a, f)

	c, s := tcpPair(t, a)
	defer closeOp(t, a, c)
	defer closeOp(t, a, s)
	// s was never used by A: the accept made it. B binds it with its first op; then A
	// is the foreign one. c was used by A (its connect).
	r := newRec(poller.Op{Code: poller.OpRecv, Fd: int(c), Buf: buf})
	err := b.Submit(&r.op)
	var fe *iocp.ForeignHandleError
	if !errors.As(err, &fe) || !errors.Is(err, syscall.EINVAL) || fe.Handle != int(c) || fe.Code != poller.OpRecv {
		t.Fatalf("recv on B of A's socket: Submit = %v, want a *ForeignHandleError", err)
	}
	if res := run(t, a, newRec(poller.Op{Code: poller.OpSend, Fd: int(s), Buf: []byte("ping")})); res != 4 {
		t.Fatalf("send on A = %d (%v)", res, errOf(res))
	}
	if res := run(t, a, newRec(poller.Op{Code: poller.OpRecv, Fd: int(c), Buf: buf})); res != 4 || string(buf[:4]) != "ping" {
		t.Fatalf("recv on A = %d %q", res, buf)
	}
	if st := b.Stats(); st.Completions != st.Submitted {
		t.Fatalf("B: %d ops submitted, %d completed", st.Submitted, st.Completions)
	}
}

// A socket of Go's net package is associated with the runtime's own port: the driver
// refuses it clearly instead of issuing a call whose packet it would never see.
func TestForeignGoSocket(t *testing.T) {
	d := newDriver(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	raw, err := conn.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var fd uintptr
	if err := raw.Control(func(h uintptr) { fd = h }); err != nil {
		t.Fatal(err)
	}
	r := newRec(poller.Op{Code: poller.OpRecv, Fd: int(fd), Buf: make([]byte, 8)})
	err = d.Submit(&r.op)
	var fe *iocp.ForeignHandleError
	if !errors.As(err, &fe) {
		t.Fatalf("recv on a net.Conn's socket: Submit = %v, want a *ForeignHandleError", err)
	}
}

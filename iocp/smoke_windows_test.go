package iocp_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/zokio/zokio/iocp"
	"github.com/zokio/zokio/poller"
)

// Small end-to-end checks of the driver on real sockets and files; the conformance
// suite (pollertest) covers the contract scenario by scenario.

const deadline = 10 * time.Second

func newDriver(t *testing.T) *iocp.Driver {
	t.Helper()
	d, err := iocp.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// rec records an op's completions.
type rec struct {
	op  poller.Op
	res []int32
	fin bool
}

func newRec(op poller.Op) *rec {
	r := &rec{op: op}
	r.op.Done = func(op *poller.Op) {
		r.res = append(r.res, op.Res)
		if !op.More() {
			r.fin = true
		}
	}
	return r
}

func until(t *testing.T, d *iocp.Driver, what string, cond func() bool) {
	t.Helper()
	end := time.Now().Add(deadline)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("timed out waiting for %s", what)
		}
		if _, err := d.Wait(time.Until(end)); err != nil {
			t.Fatalf("Wait: %v", err)
		}
	}
}

func run(t *testing.T, d *iocp.Driver, r *rec) int32 {
	t.Helper()
	if err := d.Submit(&r.op); err != nil {
		t.Fatalf("Submit(%v): %v", r.op.Code, err)
	}
	until(t, d, r.op.Code.String(), func() bool { return r.fin })
	return r.res[len(r.res)-1]
}

func socket(t *testing.T) windows.Handle {
	t.Helper()
	s, err := windows.WSASocket(windows.AF_INET, windows.SOCK_STREAM, windows.IPPROTO_TCP, nil, 0,
		windows.WSA_FLAG_OVERLAPPED|windows.WSA_FLAG_NO_HANDLE_INHERIT)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func sockaddr(port int) *poller.Sockaddr {
	var a poller.Sockaddr
	raw := (*windows.RawSockaddrInet4)(unsafe.Pointer(&a.Raw[0]))
	raw.Family = windows.AF_INET
	binary.BigEndian.PutUint16((*[2]byte)(unsafe.Pointer(&raw.Port))[:], uint16(port))
	raw.Addr = [4]byte{127, 0, 0, 1}
	a.Len = uint32(unsafe.Sizeof(*raw))
	return &a
}

func listener(t *testing.T) (windows.Handle, *poller.Sockaddr) {
	t.Helper()
	l := socket(t)
	if err := windows.Bind(l, &windows.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := windows.Listen(l, 16); err != nil {
		t.Fatal(err)
	}
	sa, err := windows.Getsockname(l)
	if err != nil {
		t.Fatal(err)
	}
	return l, sockaddr(sa.(*windows.SockaddrInet4).Port)
}

func closeOp(t *testing.T, d *iocp.Driver, h windows.Handle) {
	t.Helper()
	if res := run(t, d, newRec(poller.Op{Code: poller.OpClose, Fd: int(h)})); res != 0 {
		t.Errorf("close: %v", syscall.Errno(-res))
	}
}

func TestNopTimerWake(t *testing.T) {
	d := newDriver(t)
	if res := run(t, d, newRec(poller.Op{Code: poller.OpNop})); res != 0 {
		t.Fatalf("nop = %d", res)
	}
	start := time.Now()
	if res := run(t, d, newRec(poller.Op{Code: poller.OpTimeout, Timeout: 20 * time.Millisecond})); res != -int32(poller.ETIME) {
		t.Fatalf("timeout = %d", res)
	}
	if el := time.Since(start); el < 20*time.Millisecond {
		t.Fatalf("timer fired after %v", el)
	}
	go d.Wake()
	if _, err := d.Wait(deadline); err != nil {
		t.Fatal(err)
	}
}

func TestTCPEcho(t *testing.T) {
	d := newDriver(t)
	l, addr := listener(t)
	acc := newRec(poller.Op{Code: poller.OpAccept, Fd: int(l), Addr: new(poller.Sockaddr)})
	if err := d.Submit(&acc.op); err != nil {
		t.Fatal(err)
	}
	c := socket(t)
	if res := run(t, d, newRec(poller.Op{Code: poller.OpConnect, Fd: int(c), Addr: addr})); res != 0 {
		t.Fatalf("connect: %v", syscall.Errno(-res))
	}
	until(t, d, "accept", func() bool { return acc.fin })
	if acc.res[0] < 0 {
		t.Fatalf("accept: %v", syscall.Errno(-acc.res[0]))
	}
	s := windows.Handle(acc.res[0])
	if acc.op.Addr.Len == 0 {
		t.Error("accept reported no peer address")
	}
	msg := []byte("hello, port")
	if res := run(t, d, newRec(poller.Op{Code: poller.OpSend, Fd: int(c), Buf: msg})); int(res) != len(msg) {
		t.Fatalf("send = %d", res)
	}
	buf := make([]byte, 64)
	res := run(t, d, newRec(poller.Op{Code: poller.OpRecv, Fd: int(s), Buf: buf}))
	if !bytes.Equal(buf[:max(res, 0)], msg) {
		t.Fatalf("recv = %d %q", res, buf[:max(res, 0)])
	}
	// A pending receive, cancelled, completes once with ECANCELED.
	r := newRec(poller.Op{Code: poller.OpRecv, Fd: int(s), Buf: buf})
	if err := d.Submit(&r.op); err != nil {
		t.Fatal(err)
	}
	if err := d.Cancel(&r.op); err != nil {
		t.Fatal(err)
	}
	until(t, d, "cancelled recv", func() bool { return r.fin })
	if len(r.res) != 1 || !errors.Is(syscall.Errno(-r.res[0]), syscall.ECANCELED) {
		t.Fatalf("cancelled recv: %v", r.res)
	}
	closeOp(t, d, s)
	closeOp(t, d, c)
	closeOp(t, d, l)
}

func TestFileReadWrite(t *testing.T) {
	d := newDriver(t)
	dir, err := os.MkdirTemp("", "iocp")
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(dir)
	path := filepath.Join(dir, "f")
	defer os.Remove(path)
	open := newRec(poller.Op{Code: poller.OpOpenat, Fd: -1, Path: path, Arg: syscall.O_RDWR | syscall.O_CREAT, Mode: 0o644})
	fd := run(t, d, open)
	if fd < 0 {
		t.Fatalf("open: %v", syscall.Errno(-fd))
	}
	data := []byte("0123456789")
	if res := run(t, d, newRec(poller.Op{Code: poller.OpWrite, Fd: int(fd), Buf: data, Offset: -1})); res != 10 {
		t.Fatalf("write = %d", res)
	}
	if res := run(t, d, newRec(poller.Op{Code: poller.OpWrite, Fd: int(fd), Buf: data[:3], Offset: -1})); res != 3 {
		t.Fatalf("write = %d", res)
	}
	buf := make([]byte, 32)
	if res := run(t, d, newRec(poller.Op{Code: poller.OpRead, Fd: int(fd), Buf: buf, Offset: 5})); res != 8 || string(buf[:8]) != "56789012" {
		t.Fatalf("read = %d %q", res, buf[:max(res, 0)])
	}
	if res := run(t, d, newRec(poller.Op{Code: poller.OpRead, Fd: int(fd), Buf: buf, Offset: 100})); res != 0 {
		t.Fatalf("read past EOF = %d", res)
	}
	if res := run(t, d, newRec(poller.Op{Code: poller.OpFsync, Fd: int(fd)})); res != 0 {
		t.Fatalf("fsync = %v", syscall.Errno(-res))
	}
	closeOp(t, d, windows.Handle(fd))
}

package runtime

import (
	"net/netip"
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/sys/windows"
)

// pollIn is POLLIN in the encoding OpPoll's Arg uses on every driver.
const pollIn = 0x1

// socketpair returns two connected overlapped TCP sockets on the loopback interface
// (Windows has no socketpair), closed at the end of the test. The driver associates
// them with its port on their first op.
func socketpair(t *testing.T) (int, int) {
	t.Helper()
	sock := func() windows.Handle {
		h, err := windows.WSASocket(windows.AF_INET, windows.SOCK_STREAM, windows.IPPROTO_TCP, nil, 0,
			windows.WSA_FLAG_OVERLAPPED|windows.WSA_FLAG_NO_HANDLE_INHERIT)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	ln := sock()
	defer windows.Closesocket(ln)
	lo := netip.MustParseAddr("127.0.0.1").As4()
	if err := windows.Bind(ln, &windows.SockaddrInet4{Addr: lo}); err != nil {
		t.Fatal(err)
	}
	if err := windows.Listen(ln, 1); err != nil {
		t.Fatal(err)
	}
	sa, err := windows.Getsockname(ln)
	if err != nil {
		t.Fatal(err)
	}
	a := sock()
	// A blocking connect: the listener's backlog completes the handshake.
	if err := windows.Connect(a, sa); err != nil {
		windows.Closesocket(a)
		t.Fatal(err)
	}
	b, err := accept(ln)
	if err != nil {
		windows.Closesocket(a)
		t.Fatal(err)
	}
	t.Cleanup(func() { windows.Closesocket(a); windows.Closesocket(b) })
	for _, h := range []windows.Handle{a, b} {
		_ = windows.SetsockoptInt(h, windows.IPPROTO_TCP, windows.TCP_NODELAY, 1)
	}
	return int(a), int(b)
}

var procAccept = windows.NewLazySystemDLL("ws2_32.dll").NewProc("accept")

// accept takes the connection waiting on ln (a blocking accept; the new socket is
// overlapped like ln).
func accept(ln windows.Handle) (windows.Handle, error) {
	if err := procAccept.Find(); err != nil {
		return 0, err
	}
	r, _, e := syscall.SyscallN(procAccept.Addr(), uintptr(ln), 0, 0)
	if windows.Handle(r) == windows.InvalidHandle {
		return 0, e
	}
	return windows.Handle(r), nil
}

// writeFd writes b to a socket from the test's goroutine, outside the runtime: a
// WSASend without an OVERLAPPED, which completes before it returns and posts nothing
// to the port.
func writeFd(fd int, b []byte) (int, error) {
	var n uint32
	buf := windows.WSABuf{Len: uint32(len(b)), Buf: unsafe.SliceData(b)}
	err := windows.WSASend(windows.Handle(fd), &buf, 1, &n, 0, nil, nil)
	return int(n), err
}

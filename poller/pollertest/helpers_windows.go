package pollertest

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/zokio/zokio/internal/winhandles"
	"github.com/zokio/zokio/poller"
)

// The helper layer (see helpers.go) on Windows, through golang.org/x/sys/windows.
// Descriptors are SOCKET and HANDLE values: sockets made with WSA_FLAG_OVERLAPPED and
// not inherited, files and directories opened with FILE_FLAG_OVERLAPPED, as the
// runtime makes them for the IOCP driver. Windows has no socketpair and its anonymous
// pipes cannot be polled, so a connected pair of TCP sockets on 127.0.0.1 stands in
// for both. Outside the driver the helpers use the sockets synchronously (WSASend and
// WSARecv without an OVERLAPPED, after WSAPoll says they can go ahead).

var (
	ws2                             = windows.NewLazySystemDLL("ws2_32.dll")
	procAccept                      = ws2.NewProc("accept")
	procWSAPoll                     = ws2.NewProc("WSAPoll")
	loopback4                       = [4]byte{127, 0, 0, 1}
	sizeofSockaddrInet4             = uint32(unsafe.Sizeof(windows.RawSockaddrInet4{}))
	wsaPollRead, wsaPollWrite int16 = 0x0100, 0x0010 // POLLRDNORM, POLLWRNORM
)

type fdset struct {
	t   *testing.T
	fds map[int]bool
}

func newFDs(t *testing.T) *fdset {
	s := &fdset{t: t, fds: map[int]bool{}}
	t.Cleanup(func() {
		for fd := range s.fds {
			_ = closeAny(fd)
		}
	})
	return s
}

// closeAny closes a socket, or, if fd is no socket, a handle.
func closeAny(fd int) error {
	h := windows.Handle(fd)
	if err := windows.Closesocket(h); err != windows.WSAENOTSOCK {
		return err
	}
	return windows.CloseHandle(h)
}

func (s *fdset) add(fd int) int { s.fds[fd] = true; return fd }

// forget drops fd from cleanup: something else closed it.
func (s *fdset) forget(fd int) { delete(s.fds, fd) }

// close closes fd outside the driver.
func (s *fdset) close(fd int) {
	s.forget(fd)
	fatalIf(s.t, closeAny(fd), "close")
}

func (s *fdset) socket(typ, proto int32) int {
	h, err := windows.WSASocket(windows.AF_INET, typ, proto, nil, 0,
		windows.WSA_FLAG_OVERLAPPED|windows.WSA_FLAG_NO_HANDLE_INHERIT)
	fatalIf(s.t, err, "WSASocket")
	return s.add(int(h))
}

func (s *fdset) tcpSocket() int { return s.socket(windows.SOCK_STREAM, windows.IPPROTO_TCP) }

// pipe returns the two ends of a connected TCP pair: Windows' anonymous pipes cannot be
// polled or used overlapped.
func (s *fdset) pipe() (r, w int) { return s.tcpPair() }

// streamPair returns a connected TCP pair (Windows has no socketpair, and Wine no
// AF_UNIX).
func (s *fdset) streamPair() (a, b int) { return s.tcpPair() }

// listener returns a listening TCP socket on 127.0.0.1 and its address.
func (s *fdset) listener() (int, *poller.Sockaddr) {
	fd := s.tcpSocket()
	fatalIf(s.t, windows.Bind(windows.Handle(fd), &windows.SockaddrInet4{Addr: loopback4}), "bind")
	fatalIf(s.t, windows.Listen(windows.Handle(fd), 128), "listen")
	return fd, s.localAddr(fd)
}

// udp returns a UDP socket bound to 127.0.0.1 and its address.
func (s *fdset) udp() (int, *poller.Sockaddr) {
	fd := s.socket(windows.SOCK_DGRAM, windows.IPPROTO_UDP)
	fatalIf(s.t, windows.Bind(windows.Handle(fd), &windows.SockaddrInet4{Addr: loopback4}), "bind")
	return fd, s.localAddr(fd)
}

func (s *fdset) localAddr(fd int) *poller.Sockaddr {
	sa, err := windows.Getsockname(windows.Handle(fd))
	fatalIf(s.t, err, "getsockname")
	return inet4(sa.(*windows.SockaddrInet4).Port)
}

// inet4 encodes 127.0.0.1:port as a raw sockaddr_in.
func inet4(port int) *poller.Sockaddr {
	var a poller.Sockaddr
	// SAFETY: Raw is 8-byte aligned and larger than RawSockaddrInet4.
	raw := (*windows.RawSockaddrInet4)(unsafe.Pointer(&a.Raw[0]))
	raw.Family = windows.AF_INET
	raw.Addr = loopback4
	a.Len = sizeofSockaddrInet4
	a.Raw[2], a.Raw[3] = byte(port>>8), byte(port) // network order
	return &a
}

// dial connects a new TCP socket to addr outside the driver. The connect completes
// against the listener's backlog, whether or not anyone accepts.
func (s *fdset) dial(addr *poller.Sockaddr) int {
	fd := s.tcpSocket()
	err := windows.Connect(windows.Handle(fd), &windows.SockaddrInet4{Port: portOf(addr), Addr: loopback4})
	fatalIf(s.t, err, "connect")
	return fd
}

// tcpPair returns a connected pair of TCP sockets made outside the driver.
func (s *fdset) tcpPair() (client, server int) {
	lfd, addr := s.listener()
	client = s.dial(addr)
	// The connection is already queued, so accept does not block.
	r, _, e := procAccept.Call(uintptr(lfd), 0, 0)
	if windows.Handle(r) == windows.InvalidHandle {
		s.t.Fatalf("accept: %v", e)
	}
	s.close(lfd)
	return client, s.add(int(r))
}

// openDir opens path, a directory, for reading, outside the driver.
func (s *fdset) openDir(path string) int {
	p, err := windows.UTF16PtrFromString(path)
	fatalIf(s.t, err, "path %q", path)
	h, err := windows.CreateFile(p, windows.GENERIC_READ,
		windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE|windows.FILE_SHARE_DELETE, nil,
		windows.OPEN_EXISTING, windows.FILE_FLAG_BACKUP_SEMANTICS|windows.FILE_FLAG_OVERLAPPED, 0)
	fatalIf(s.t, err, "open %s", path)
	return s.add(int(h))
}

// wsaPollFd is WSAPOLLFD.
type wsaPollFd struct {
	fd      windows.Handle
	events  int16
	revents int16
}

// waitFor waits up to the deadline until fd is ready for events (WSAPoll).
func waitFor(t *testing.T, fd int, events int16) {
	t.Helper()
	p := wsaPollFd{fd: windows.Handle(fd), events: events}
	r, _, e := procWSAPoll.Call(uintptr(unsafe.Pointer(&p)), 1, uintptr(deadline.Milliseconds()))
	if int32(r) < 0 {
		t.Fatalf("WSAPoll: %v", e)
	}
}

// write writes all of p to fd outside the driver.
func write(t *testing.T, fd int, p []byte) {
	t.Helper()
	for len(p) > 0 {
		waitFor(t, fd, wsaPollWrite)
		var n uint32
		buf := windows.WSABuf{Len: uint32(len(p)), Buf: &p[0]}
		err := windows.WSASend(windows.Handle(fd), &buf, 1, &n, 0, nil, nil)
		if err == windows.WSAEWOULDBLOCK {
			continue
		}
		fatalIf(t, err, "WSASend")
		p = p[n:]
	}
}

// readNow reads what is available on fd outside the driver, waiting up to the deadline
// for the first byte.
func readNow(t *testing.T, fd int, p []byte) int {
	t.Helper()
	waitFor(t, fd, wsaPollRead)
	var n, flags uint32
	buf := windows.WSABuf{Len: uint32(len(p)), Buf: &p[0]}
	fatalIf(t, windows.WSARecv(windows.Handle(fd), &buf, 1, &n, &flags, nil, nil), "WSARecv")
	return int(n)
}

// shutdownWrite shuts down fd's sending half outside the driver.
func shutdownWrite(t *testing.T, fd int) {
	t.Helper()
	fatalIf(t, windows.Shutdown(windows.Handle(fd), windows.SHUT_WR), "shutdown")
}

// openCheck captures the object fd names now (winhandles.Identity) and returns a probe
// that reports whether fd still names it.
func openCheck(fd int) func() bool {
	h := windows.Handle(fd)
	id := winhandles.Identity(h)
	return func() bool { return id != "" && winhandles.Identity(h) == id }
}

// closedFd returns a handle value beyond any process's handle table (Windows holds at
// most 2^24 handles, valued up to 2^26; Wine alike), never a just-closed one: Windows
// and Wine reuse a closed value at once, from other threads too, and an op on it would
// reach (and associate with the driver's port) a handle that is not the scenario's.
func (s *fdset) closedFd() int { return 1 << 29 }

// tempDir returns a directory that is removed when the scenario ends, after its
// descriptors and driver are closed: Windows deletes an open file only at its last
// close, and a directory only once empty. Not t.TempDir: its cleanup (os.RemoveAll)
// fails under Wine, where removing each entry works.
func tempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "pollertest-")
	fatalIf(t, err, "MkdirTemp")
	atEnd(t, func() {
		if err := removeTree(dir); err != nil {
			t.Errorf("removing %s: %v", dir, err)
		}
	})
	return dir
}

// removeTree removes dir and everything below it, one entry at a time.
func removeTree(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		p := filepath.Join(dir, e.Name())
		if e.IsDir() {
			err = removeTree(p)
		} else {
			err = os.Remove(p)
		}
		if err != nil {
			return err
		}
	}
	return os.Remove(dir)
}

// What the system reports for the failures the scenarios provoke: syscall's invented
// errno where a driver translates, or the Win32 and WinSock codes themselves.
var (
	errBadFd       = []error{syscall.EBADF, windows.ERROR_INVALID_HANDLE, windows.WSAENOTSOCK}
	errConnRefused = []error{syscall.ECONNREFUSED, windows.WSAECONNREFUSED, windows.ERROR_CONNECTION_REFUSED}
	errNotExist    = []error{syscall.ENOENT, windows.ERROR_PATH_NOT_FOUND}
	errExist       = []error{syscall.EEXIST, windows.ERROR_ALREADY_EXISTS, windows.ERROR_FILE_EXISTS}
	errIsDir       = []error{syscall.EISDIR, syscall.EACCES, windows.ERROR_INVALID_FUNCTION, windows.ERROR_ACCESS_DENIED}
	errNotWritable = []error{syscall.EBADF, syscall.EACCES, windows.ERROR_ACCESS_DENIED}
	errLoop        = []error{syscall.ELOOP}
	errNotDir      = []error{syscall.ENOTDIR, windows.ERROR_DIRECTORY}
)

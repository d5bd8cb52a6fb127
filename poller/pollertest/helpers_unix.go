//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package pollertest

import (
	"os"
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/zokio/zokio/poller"
)

// The helper layer (see helpers.go) on Linux, macOS and the BSDs, through
// golang.org/x/sys/unix's functions only: on macOS and OpenBSD they go through libc,
// the only way those systems allow. Every descriptor is non-blocking and close-on-exec,
// as a runtime creates them, and is closed by the scenario's cleanup unless the scenario
// closes it through the driver (then it calls forget).

type fdset struct {
	t   *testing.T
	fds map[int]bool
}

func newFDs(t *testing.T) *fdset {
	s := &fdset{t: t, fds: map[int]bool{}}
	t.Cleanup(func() {
		for fd := range s.fds {
			unix.Close(fd)
		}
	})
	return s
}

func (s *fdset) add(fd int) int { s.fds[fd] = true; return fd }

// forget drops fd from cleanup: something else closed it.
func (s *fdset) forget(fd int) { delete(s.fds, fd) }

// close closes fd outside the driver.
func (s *fdset) close(fd int) {
	s.forget(fd)
	fatalIf(s.t, unix.Close(fd), "close")
}

// made finishes a descriptor the system just created (or reports err): close-on-exec,
// non-blocking, tracked. The caller holds syscall.ForkLock, so that no child inherits
// the descriptor in between, as the os and net packages do on systems without
// SOCK_CLOEXEC.
func (s *fdset) made(fd int, err error, what string) int {
	s.t.Helper()
	if err == nil {
		unix.CloseOnExec(fd)
		if err = unix.SetNonblock(fd, true); err != nil {
			unix.Close(fd)
		}
	}
	fatalIf(s.t, err, "%s", what)
	return s.add(fd)
}

func (s *fdset) pipe() (r, w int) {
	var p [2]int
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	err := unix.Pipe(p[:])
	r = s.made(p[0], err, "pipe")
	return r, s.made(p[1], nil, "pipe")
}

// streamPair returns a connected pair of Unix-domain stream sockets.
func (s *fdset) streamPair() (a, b int) {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	p, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	a = s.made(p[0], err, "socketpair")
	return a, s.made(p[1], nil, "socketpair")
}

func (s *fdset) socket(typ int) int {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	fd, err := unix.Socket(unix.AF_INET, typ, 0)
	return s.made(fd, err, "socket")
}

func (s *fdset) tcpSocket() int { return s.socket(unix.SOCK_STREAM) }

var loopback4 = [4]byte{127, 0, 0, 1}

// listener returns a listening TCP socket on 127.0.0.1 and its address.
func (s *fdset) listener() (int, *poller.Sockaddr) {
	fd := s.socket(unix.SOCK_STREAM)
	fatalIf(s.t, unix.Bind(fd, &unix.SockaddrInet4{Addr: loopback4}), "bind")
	fatalIf(s.t, unix.Listen(fd, 128), "listen")
	return fd, s.localAddr(fd)
}

// udp returns a UDP socket bound to 127.0.0.1 and its address.
func (s *fdset) udp() (int, *poller.Sockaddr) {
	fd := s.socket(unix.SOCK_DGRAM)
	fatalIf(s.t, unix.Bind(fd, &unix.SockaddrInet4{Addr: loopback4}), "bind")
	return fd, s.localAddr(fd)
}

func (s *fdset) localAddr(fd int) *poller.Sockaddr {
	sa, err := unix.Getsockname(fd)
	fatalIf(s.t, err, "getsockname")
	return inet4(sa.(*unix.SockaddrInet4).Port)
}

// inet4 encodes 127.0.0.1:port as a raw sockaddr_in, in this system's layout.
func inet4(port int) *poller.Sockaddr {
	var a poller.Sockaddr
	// SAFETY: Raw is 8-byte aligned and larger than RawSockaddrInet4.
	raw := (*unix.RawSockaddrInet4)(unsafe.Pointer(&a.Raw[0]))
	setInet4Len(raw)
	raw.Family = unix.AF_INET
	raw.Addr = loopback4
	a.Len = unix.SizeofSockaddrInet4
	a.Raw[2], a.Raw[3] = byte(port>>8), byte(port) // network order, on every system
	return &a
}

// dial starts connecting a new TCP socket to addr outside the driver; the connection
// completes in the kernel (the listener's backlog) whether or not anyone accepts.
func (s *fdset) dial(addr *poller.Sockaddr) int {
	fd := s.socket(unix.SOCK_STREAM)
	err := unix.Connect(fd, &unix.SockaddrInet4{Port: portOf(addr), Addr: loopback4})
	if err != nil && err != unix.EINPROGRESS {
		s.t.Fatalf("connect: %v", err)
	}
	return fd
}

// tcpPair returns a connected pair of TCP sockets made outside the driver.
func (s *fdset) tcpPair() (client, server int) {
	lfd, addr := s.listener()
	client = s.dial(addr)
	pfd := []unix.PollFd{{Fd: int32(lfd), Events: unix.POLLIN}}
	if _, err := unix.Poll(pfd, int(deadline.Milliseconds())); err != nil {
		s.t.Fatalf("poll: %v", err)
	}
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	server, _, err := unix.Accept(lfd)
	return client, s.made(server, err, "accept")
}

// openDir opens path, a directory, for reading, outside the driver.
func (s *fdset) openDir(path string) int {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	fatalIf(s.t, err, "open %s", path)
	return s.add(fd)
}

// write writes all of p to fd outside the driver, waiting for room with poll.
func write(t *testing.T, fd int, p []byte) {
	t.Helper()
	for len(p) > 0 {
		n, err := unix.Write(fd, p)
		if err == unix.EAGAIN {
			pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}
			_, _ = unix.Poll(pfd, int(deadline.Milliseconds()))
			continue
		}
		fatalIf(t, err, "write")
		p = p[n:]
	}
}

// readNow reads what is available on fd outside the driver, waiting up to the deadline
// for the first byte.
func readNow(t *testing.T, fd int, p []byte) int {
	t.Helper()
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	if _, err := unix.Poll(pfd, int(deadline.Milliseconds())); err != nil {
		t.Fatalf("poll: %v", err)
	}
	n, err := unix.Read(fd, p)
	fatalIf(t, err, "read")
	return n
}

// shutdownWrite shuts down fd's writing half outside the driver.
func shutdownWrite(t *testing.T, fd int) {
	t.Helper()
	fatalIf(t, unix.Shutdown(fd, unix.SHUT_WR), "shutdown")
}

// openCheck captures the file fd names now (device and inode; sockets and pipes have
// theirs too) and returns a probe that reports whether fd still names it. Comparing
// the file, not only the number, keeps the probe sound if the number is handed out
// again after a close.
func openCheck(fd int) func() bool {
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil {
		return func() bool { return false }
	}
	return func() bool {
		var now unix.Stat_t
		return unix.Fstat(fd, &now) == nil && now.Dev == st.Dev && now.Ino == st.Ino
	}
}

// closedFd returns the read end of a pipe, closed: on Unix a closed number is reused
// only by an open, and the runtime opens nothing behind a scenario's back.
func (s *fdset) closedFd() int {
	r, _ := s.pipe()
	s.close(r)
	return r
}

// tempDir returns a directory that is removed when the scenario ends, after its
// descriptors and driver are closed.
func tempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "pollertest-")
	fatalIf(t, err, "MkdirTemp")
	atEnd(t, func() {
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("removing %s: %v", dir, err)
		}
	})
	return dir
}

// What the system reports for the failures the scenarios provoke.
var (
	errBadFd       = []error{syscall.EBADF}
	errConnRefused = []error{syscall.ECONNREFUSED}
	errNotExist    = []error{syscall.ENOENT}
	errExist       = []error{syscall.EEXIST}
	errIsDir       = []error{syscall.EISDIR}
	errNotWritable = []error{syscall.EBADF}
	// ELOOP, or EMLINK (FreeBSD) or EFTYPE (NetBSD, added in errno_netbsd.go) for
	// O_NOFOLLOW on a symbolic link.
	errLoop   = []error{syscall.ELOOP, syscall.EMLINK}
	errNotDir = []error{syscall.ENOTDIR}
)

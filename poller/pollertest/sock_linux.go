package pollertest

import (
	"encoding/binary"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/zokio/zokio/poller"
)

// Descriptor helpers. Every descriptor is non-blocking and close-on-exec, as a runtime
// creates them, and is closed by the scenario's cleanup unless the scenario closes it
// through the driver (then it calls forget).

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

func (s *fdset) pipe() (r, w int) {
	var p [2]int
	fatalIf(s.t, unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC), "pipe2")
	return s.add(p[0]), s.add(p[1])
}

func (s *fdset) socketpair(typ int) (a, b int) {
	p, err := unix.Socketpair(unix.AF_UNIX, typ|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	fatalIf(s.t, err, "socketpair")
	return s.add(p[0]), s.add(p[1])
}

func (s *fdset) socket(typ int) int {
	fd, err := unix.Socket(unix.AF_INET, typ|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	fatalIf(s.t, err, "socket")
	return s.add(fd)
}

// listener returns a listening TCP socket on 127.0.0.1 and its address.
func (s *fdset) listener() (int, *poller.Sockaddr) {
	fd := s.socket(unix.SOCK_STREAM)
	fatalIf(s.t, unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}), "bind")
	fatalIf(s.t, unix.Listen(fd, 128), "listen")
	return fd, s.localAddr(fd)
}

// udp returns a UDP socket bound to 127.0.0.1 and its address.
func (s *fdset) udp() (int, *poller.Sockaddr) {
	fd := s.socket(unix.SOCK_DGRAM)
	fatalIf(s.t, unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}), "bind")
	return fd, s.localAddr(fd)
}

func (s *fdset) localAddr(fd int) *poller.Sockaddr {
	sa, err := unix.Getsockname(fd)
	fatalIf(s.t, err, "getsockname")
	return inet4(sa.(*unix.SockaddrInet4).Port)
}

// inet4 encodes 127.0.0.1:port as a raw sockaddr_in.
func inet4(port int) *poller.Sockaddr {
	var a poller.Sockaddr
	// SAFETY: Raw is 8-byte aligned and larger than RawSockaddrInet4.
	raw := (*unix.RawSockaddrInet4)(unsafe.Pointer(&a.Raw[0]))
	raw.Family = unix.AF_INET
	binary.BigEndian.PutUint16((*[2]byte)(unsafe.Pointer(&raw.Port))[:], uint16(port))
	raw.Addr = [4]byte{127, 0, 0, 1}
	a.Len = unix.SizeofSockaddrInet4
	return &a
}

// portOf decodes the port of a raw sockaddr_in.
func portOf(a *poller.Sockaddr) int {
	// SAFETY: as in inet4.
	raw := (*unix.RawSockaddrInet4)(unsafe.Pointer(&a.Raw[0]))
	return int(binary.BigEndian.Uint16((*[2]byte)(unsafe.Pointer(&raw.Port))[:]))
}

// tcpPair returns a connected pair of TCP sockets made outside the driver.
func (s *fdset) tcpPair() (client, server int) {
	lfd, addr := s.listener()
	client = s.socket(unix.SOCK_STREAM)
	err := unix.Connect(client, &unix.SockaddrInet4{Port: portOf(addr), Addr: [4]byte{127, 0, 0, 1}})
	if err != nil && err != unix.EINPROGRESS {
		s.t.Fatalf("connect: %v", err)
	}
	pfd := []unix.PollFd{{Fd: int32(lfd), Events: unix.POLLIN}}
	if _, err := unix.Poll(pfd, int(deadline.Milliseconds())); err != nil {
		s.t.Fatalf("poll: %v", err)
	}
	server, _, err = unix.Accept4(lfd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
	fatalIf(s.t, err, "accept4")
	return client, s.add(server)
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

// isOpen reports whether fd is an open descriptor.
func isOpen(fd int) bool {
	_, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	return err == nil
}

package pollertest

import (
	"encoding/binary"

	"github.com/zokio/zokio/poller"
)

// The scenarios are portable Go: they reach the system only through the driver under
// test and through a small per-OS helper layer, which makes descriptors and moves bytes
// outside the driver. Each system provides, in its helpers_GOOS.go file:
//
//	type fdset                              descriptors a scenario made; its cleanup closes them
//	func newFDs(t *testing.T) *fdset
//	func (s *fdset) add(fd int) int         track fd (one the driver produced) for cleanup
//	func (s *fdset) forget(fd int)          stop tracking fd: the driver closed it (OpClose)
//	func (s *fdset) close(fd int)           close fd outside the driver, now, and forget it
//	func (s *fdset) pipe() (r, w int)       a one-way byte stream (a pipe; a socket pair
//	                                        where the system's pipes cannot be polled)
//	func (s *fdset) streamPair() (a, b int) a connected pair of stream sockets
//	func (s *fdset) tcpSocket() int         an unconnected TCP/IPv4 socket
//	func (s *fdset) listener() (int, *poller.Sockaddr) a TCP listener on 127.0.0.1
//	func (s *fdset) udp() (int, *poller.Sockaddr)      a UDP socket bound to 127.0.0.1
//	func (s *fdset) localAddr(fd int) *poller.Sockaddr
//	func (s *fdset) tcpPair() (client, server int)     connected outside the driver
//	func (s *fdset) dial(addr *poller.Sockaddr) int    a client whose connect has started
//	func (s *fdset) openDir(path string) int           a directory opened for reading
//	func write(t, fd, p)                    write all of p, waiting for room
//	func readNow(t, fd, p) int              read what is there, waiting for the first byte
//	func shutdownWrite(t, fd)               shut down fd's writing half
//	func openCheck(fd int) func() bool      a probe of the object fd names now: true while fd
//	                                        still names that object, not one opened since
//	func (s *fdset) closedFd() int          a number that names no open descriptor and that
//	                                        nothing will reuse while the scenario runs
//	func inet4(port int) *poller.Sockaddr   127.0.0.1:port in the system's raw sockaddr_in
//	func tempDir(t *testing.T) string       a directory removed when the scenario ends,
//	                                        after its descriptors (atEnd)
//	func openFDs() int                      descriptors held (fds_*.go; -1: not counted)
//	var errBadFd, errConnRefused, errNotExist, errExist, errIsDir, errNotWritable []error
//	                                        what the system reports for those failures
//
// Descriptors are ints, as in poller.Op: file descriptors on Unix, HANDLE or SOCKET
// values on Windows. Sockets are made as a runtime makes them (non-blocking and
// close-on-exec on Unix; overlapped and not inherited on Windows).
//
// Outcomes the contract itself defines are compared with syscall's values, which exist
// on every system and which every driver reports as such: ECANCELED, ETIME
// (poller.ETIME), ENOBUFS, EINVAL. Failures that come from the system (a bad
// descriptor, a refused connection, a missing file) are compared with the err* lists,
// since each system names them its own way.

// portOf decodes the port of a raw sockaddr_in. Every system puts it at bytes 2 and 3,
// in network order (after a 16-bit family on Linux and Windows; after a length byte
// and a family byte on the BSDs).
func portOf(a *poller.Sockaddr) int { return int(binary.BigEndian.Uint16(a.Raw[2:4])) }

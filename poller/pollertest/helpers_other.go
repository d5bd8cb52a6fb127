//go:build !(linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows)

package pollertest

import (
	"runtime"
	"syscall"
	"testing"

	"github.com/zokio/zokio/poller"
)

// The helper layer (see helpers.go) where Zokio has no driver: there is nothing to
// run the I/O scenarios on, so a scenario that needs descriptors skips, saying why.
// This keeps the package compiling on every system.

type fdset struct{ t *testing.T }

func newFDs(t *testing.T) *fdset {
	t.Skipf("pollertest has no descriptor helpers for %s", runtime.GOOS)
	return nil
}

func (s *fdset) none() int {
	s.t.Fatalf("pollertest has no descriptor helpers for %s", runtime.GOOS)
	return -1
}

func (s *fdset) add(fd int) int                    { return fd }
func (s *fdset) forget(int)                        {}
func (s *fdset) close(int)                         { s.none() }
func (s *fdset) pipe() (r, w int)                  { return s.none(), -1 }
func (s *fdset) streamPair() (a, b int)            { return s.none(), -1 }
func (s *fdset) tcpSocket() int                    { return s.none() }
func (s *fdset) listener() (int, *poller.Sockaddr) { return s.none(), nil }
func (s *fdset) udp() (int, *poller.Sockaddr)      { return s.none(), nil }
func (s *fdset) localAddr(int) *poller.Sockaddr    { s.none(); return nil }
func (s *fdset) tcpPair() (client, server int)     { return s.none(), -1 }
func (s *fdset) dial(*poller.Sockaddr) int         { return s.none() }
func (s *fdset) openDir(string) int                { return s.none() }
func write(t *testing.T, _ int, _ []byte)          { newFDs(t) }
func readNow(t *testing.T, _ int, _ []byte) int    { newFDs(t); return 0 }
func shutdownWrite(t *testing.T, _ int)            { newFDs(t) }
func openCheck(int) func() bool                    { return func() bool { return false } }
func (s *fdset) closedFd() int                     { return s.none() }
func tempDir(t *testing.T) string                  { return t.TempDir() }

var (
	errBadFd       = []error{syscall.EBADF}
	errConnRefused = []error{syscall.ECONNREFUSED}
	errNotExist    = []error{syscall.ENOENT}
	errExist       = []error{syscall.EEXIST}
	errIsDir       = []error{syscall.EISDIR}
	errNotWritable = []error{syscall.EBADF}
	errLoop        = []error{syscall.ELOOP}
	errNotDir      = []error{syscall.ENOTDIR}
)

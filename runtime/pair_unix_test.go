//go:build !windows

package runtime

import (
	"testing"

	"golang.org/x/sys/unix"
)

// pollIn is POLLIN, for OpPoll's Arg.
const pollIn = unix.POLLIN

// socketpair returns two connected non-blocking stream sockets, closed at the end of
// the test.
func socketpair(t *testing.T) (int, int) {
	t.Helper()
	p, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(p[0]); unix.Close(p[1]) })
	for _, fd := range p {
		unix.CloseOnExec(fd)
		if err := unix.SetNonblock(fd, true); err != nil {
			t.Fatal(err)
		}
	}
	return p[0], p[1]
}

// writeFd writes b to a socket from the test's goroutine, outside the runtime.
func writeFd(fd int, b []byte) (int, error) { return unix.Write(fd, b) }

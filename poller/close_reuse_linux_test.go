package poller

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// TestCloseFreesNumberAtOnce: once a file's OpClose has closed it, the driver accepts
// ops on a descriptor that reuses the number, even one made outside the driver and
// before the close's completion was reaped. (The close used to run on a worker and
// the driver held the number as closing until the loop reaped it: ops on the new
// descriptor got EBADF, its OpClose too, and it leaked.)
func TestCloseFreesNumberAtOnce(t *testing.T) {
	d := newTestEpoll(t, EpollConfig{Workers: 2})
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	for round := range 50 {
		n, err := unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		cl := newRecord(Op{Code: OpClose, Fd: n})
		submit(t, d, &cl.op) // no Wait yet: its completion is not reaped
		m, err := unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		if m != n {
			unix.Close(m)
			t.Fatalf("round %d: the kernel gave %d, not the closed %d (the close had not happened)", round, m, n)
		}
		rd := newRecord(Op{Code: OpRead, Fd: m, Buf: make([]byte, 1), Offset: 0})
		if res := run(t, d, rd); res != 1 {
			unix.Close(m)
			t.Fatalf("round %d: read on the reused number: %d", round, res)
		}
		waitUntil(t, d, "the first close", cl.final)
		if res := cl.res(t); res != 0 {
			t.Fatalf("round %d: first close: %d", round, res)
		}
		if res := run(t, d, newRecord(Op{Code: OpClose, Fd: m})); res != 0 {
			unix.Close(m)
			t.Fatalf("round %d: close of the reused number: %d", round, res)
		}
	}
}

package poller

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// TestEpollSplicePipeNotReady: a splice whose pipe end is not ready (the pipe it
// splices into is full) fails with EAGAIN at once on epoll, as OpSplice documents,
// instead of waiting for a readiness of the socket that is already there.
func TestEpollSplicePipeNotReady(t *testing.T) {
	d := newTestEpoll(t, EpollConfig{})
	a, b := socketpair(t)
	pr, pw := pipe(t)
	for _, fd := range []int{a, b, pr, pw} {
		if err := unix.SetNonblock(fd, true); err != nil {
			t.Fatal(err)
		}
	}
	chunk := bytes.Repeat([]byte{1}, 4096)
	for {
		if _, err := unix.Write(pw, chunk); err == unix.EAGAIN {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := unix.Write(b, []byte("data")); err != nil {
		t.Fatal(err)
	}
	r := newRecord(Op{Code: OpSplice, Fd: a, Fd2: pw, Offset: -1, Len: 4096})
	if res := run(t, d, r); res != errnoRes(unix.EAGAIN) {
		t.Fatalf("splice into a full pipe: res %d, want EAGAIN", res)
	}
	// Out of a pipe into a socket goes on the socket's readiness.
	w := newRecord(Op{Code: OpSplice, Fd: pr, Fd2: a, Offset: -1, Len: 4096})
	if res := run(t, d, w); res != 4096 {
		t.Fatalf("splice from the pipe: res %d, want 4096", res)
	}
}

// TestEpollSpliceToFile: a splice from a pipe into a regular file runs on the worker
// pool and writes at the file's position.
func TestEpollSpliceToFile(t *testing.T) {
	d := newTestEpoll(t, EpollConfig{})
	pr, pw := pipe(t)
	f, err := os.Create(filepath.Join(t.TempDir(), "f"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := unix.Write(pw, []byte("spliced")); err != nil {
		t.Fatal(err)
	}
	r := newRecord(Op{Code: OpSplice, Fd: pr, Fd2: int(f.Fd()), Offset: -1, Len: 7})
	if res := run(t, d, r); res != 7 {
		t.Fatalf("splice to the file: res %d", res)
	}
	if got, _ := os.ReadFile(f.Name()); string(got) != "spliced" {
		t.Fatalf("file holds %q", got)
	}
	// An op the driver refuses: splice on a driver without FeatSplice is tested by
	// the conformance suite's skips; a bad descriptor completes with EBADF.
	bad := newRecord(Op{Code: OpSplice, Fd: pr, Fd2: -5, Offset: -1, Len: 7})
	if res := run(t, d, bad); res != errnoRes(unix.EBADF) {
		t.Fatalf("splice to a bad descriptor: res %d", res)
	}
}

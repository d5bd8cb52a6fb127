package iocp_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/zokio/zokio/poller"
)

// TestRenameFlags: OpRenameat honours its Arg. No flags replaces an existing target, as
// rename(2) does; RenameNoReplace fails with EEXIST and leaves both files as they were;
// RenameExchange, which Windows cannot do atomically, and unknown flags fail with EINVAL
// and touch nothing.
func TestRenameFlags(t *testing.T) {
	d := newDriver(t)
	dir := tempDir(t)
	a, b, c := filepath.Join(dir, "a"), filepath.Join(dir, "b"), filepath.Join(dir, "c")
	write := func(p, s string) {
		t.Helper()
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want := func(p, s string) {
		t.Helper()
		got, err := os.ReadFile(p)
		if err != nil || string(got) != s {
			t.Fatalf("%s holds %q (%v), want %q", filepath.Base(p), got, err, s)
		}
	}
	rename := func(from, to string, flags uint32) int32 {
		t.Helper()
		return run(t, d, newRec(poller.Op{Code: poller.OpRenameat, Fd: -1, Path: from, Fd2: -1, Path2: to, Arg: flags}))
	}
	write(a, "A")
	write(b, "B")

	wantErr(t, "RenameNoReplace onto an existing file", rename(a, b, poller.RenameNoReplace), syscall.EEXIST)
	want(a, "A")
	want(b, "B")

	wantErr(t, "RenameExchange", rename(a, b, poller.RenameExchange), syscall.EINVAL)
	wantErr(t, "RenameNoReplace|RenameExchange", rename(a, b, poller.RenameNoReplace|poller.RenameExchange), syscall.EINVAL)
	wantErr(t, "an unknown flag", rename(a, c, 0x80), syscall.EINVAL)
	want(a, "A")
	want(b, "B")
	if _, err := os.Stat(c); !os.IsNotExist(err) {
		t.Fatalf("a refused rename created its target: %v", err)
	}

	if res := rename(a, c, poller.RenameNoReplace); res != 0 {
		t.Fatalf("RenameNoReplace to a new name: %v", errOf(res))
	}
	want(c, "A")
	if _, err := os.Stat(a); !os.IsNotExist(err) {
		t.Fatalf("the source is still there after RenameNoReplace: %v", err)
	}

	if res := rename(c, b, 0); res != 0 {
		t.Fatalf("rename onto an existing file: %v", errOf(res))
	}
	want(b, "A")
	if _, err := os.Stat(c); !os.IsNotExist(err) {
		t.Fatalf("the source is still there after rename: %v", err)
	}
}

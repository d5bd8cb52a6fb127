package iocp_test

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"golang.org/x/sys/windows"

	"github.com/zokio/zokio/iocp"
	"github.com/zokio/zokio/poller"
)

// tempDir is a fresh directory removed entry by entry at cleanup: under Wine,
// os.RemoveAll (and so t.TempDir's cleanup) fails on a non-empty directory.
func tempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "iocp")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			os.Remove(filepath.Join(dir, e.Name()))
		}
		os.Remove(dir)
	})
	return dir
}

func openFile(t *testing.T, d *iocp.Driver, path string, flags int) windows.Handle {
	t.Helper()
	fd := run(t, d, newRec(poller.Op{Code: poller.OpOpenat, Fd: -1, Path: path, Arg: uint32(flags), Mode: 0o644}))
	if fd < 0 {
		t.Fatalf("open %s: %v", path, errOf(fd))
	}
	return windows.Handle(fd)
}

func TestFileVectoredAndPosition(t *testing.T) {
	d := newDriver(t)
	path := filepath.Join(tempDir(t), "v")
	f := openFile(t, d, path, syscall.O_RDWR|syscall.O_CREAT|syscall.O_TRUNC)
	w := newRec(poller.Op{Code: poller.OpWritev, Fd: int(f), Offset: -1, Bufs: [][]byte{[]byte("abc"), nil, []byte("defg")}})
	if res := run(t, d, w); res != 7 {
		t.Fatalf("writev = %d (%v)", res, errOf(res))
	}
	// The tracked position moved past the writev: this write appends.
	if res := run(t, d, newRec(poller.Op{Code: poller.OpWrite, Fd: int(f), Offset: -1, Buf: []byte("h")})); res != 1 {
		t.Fatalf("write = %d", res)
	}
	x, y := make([]byte, 2), make([]byte, 10)
	if res := run(t, d, newRec(poller.Op{Code: poller.OpReadv, Fd: int(f), Offset: 1, Bufs: [][]byte{x, y}})); res != 7 {
		t.Fatalf("readv = %d (%v)", res, errOf(res))
	}
	if string(x)+string(y[:5]) != "bcdefgh" {
		t.Fatalf("readv got %q %q", x, y[:5])
	}
	if res := run(t, d, newRec(poller.Op{Code: poller.OpFtruncate, Fd: int(f), Len: 3})); res != 0 {
		t.Fatalf("ftruncate: %v", errOf(res))
	}
	if res := run(t, d, newRec(poller.Op{Code: poller.OpFallocate, Fd: int(f), Len: 4096})); res != 0 {
		t.Fatalf("fallocate: %v", errOf(res))
	}
	st := make([]byte, poller.StatxSize)
	if res := run(t, d, newRec(poller.Op{Code: poller.OpStatx, Fd: -1, Path: path, Buf: st})); res != 0 {
		t.Fatalf("statx: %v", errOf(res))
	}
	if size := binary.LittleEndian.Uint64(st[40:]); size != 4096 {
		t.Fatalf("statx size %d, want 4096", size)
	}
	if mode := binary.LittleEndian.Uint16(st[28:]); mode&0o170000 != 0o100000 {
		t.Fatalf("statx mode %o, want a regular file", mode)
	}
	closeOp(t, d, f)
}

func TestPathOps(t *testing.T) {
	d := newDriver(t)
	dir := tempDir(t)
	sub := filepath.Join(dir, "sub")
	if res := run(t, d, newRec(poller.Op{Code: poller.OpMkdirat, Fd: -1, Path: sub, Mode: 0o755})); res != 0 {
		t.Fatalf("mkdir: %v", errOf(res))
	}
	wantErr(t, "mkdir again", run(t, d, newRec(poller.Op{Code: poller.OpMkdirat, Fd: -1, Path: sub})), syscall.EEXIST)
	f := openFile(t, d, filepath.Join(dir, "a"), syscall.O_WRONLY|syscall.O_CREAT|syscall.O_EXCL)
	closeOp(t, d, f)
	wantErr(t, "O_EXCL on an existing file",
		run(t, d, newRec(poller.Op{Code: poller.OpOpenat, Fd: -1, Path: filepath.Join(dir, "a"), Arg: syscall.O_WRONLY | syscall.O_CREAT | syscall.O_EXCL})),
		syscall.EEXIST)
	ren := newRec(poller.Op{Code: poller.OpRenameat, Fd: -1, Path: filepath.Join(dir, "a"), Fd2: -1, Path2: filepath.Join(dir, "b")})
	if res := run(t, d, ren); res != 0 {
		t.Fatalf("rename: %v", errOf(res))
	}
	wantErr(t, "open of a renamed file",
		run(t, d, newRec(poller.Op{Code: poller.OpOpenat, Fd: -1, Path: filepath.Join(dir, "a")})), syscall.ENOENT)
	if res := run(t, d, newRec(poller.Op{Code: poller.OpUnlinkat, Fd: -1, Path: filepath.Join(dir, "b")})); res != 0 {
		t.Fatalf("unlink: %v", errOf(res))
	}
	if res := run(t, d, newRec(poller.Op{Code: poller.OpUnlinkat, Fd: -1, Path: sub, Arg: 0x200})); res != 0 {
		t.Fatalf("rmdir: %v", errOf(res))
	}
	wantErr(t, "stat of a removed directory",
		run(t, d, newRec(poller.Op{Code: poller.OpStatx, Fd: -1, Path: sub, Buf: make([]byte, poller.StatxSize)})), syscall.ENOENT)
}

func TestFileLinkChain(t *testing.T) {
	d := newDriver(t)
	f := openFile(t, d, filepath.Join(tempDir(t), "l"), syscall.O_RDWR|syscall.O_CREAT)
	buf := make([]byte, 5)
	w := newRec(poller.Op{Code: poller.OpWrite, Fd: int(f), Buf: []byte("chain"), Flags: poller.FlagLink})
	r := newRec(poller.Op{Code: poller.OpRead, Fd: int(f), Buf: buf})
	for _, op := range []*poller.Op{&w.op, &r.op} {
		if err := d.Submit(op); err != nil {
			t.Fatal(err)
		}
	}
	until(t, d, "the chain", func() bool { return r.fin })
	if w.res[0] != 5 || r.res[0] != 5 || string(buf) != "chain" {
		t.Fatalf("write %d, read %d %q", w.res[0], r.res[0], buf)
	}
	// A failed link cancels the rest of the chain.
	bad := newRec(poller.Op{Code: poller.OpRead, Fd: int(f), Buf: buf, Offset: 100, Flags: poller.FlagLink})
	next := newRec(poller.Op{Code: poller.OpNop})
	for _, op := range []*poller.Op{&bad.op, &next.op} {
		if err := d.Submit(op); err != nil {
			t.Fatal(err)
		}
	}
	until(t, d, "the broken chain", func() bool { return next.fin })
	wantErr(t, "the op after a short read", next.res[0], syscall.ECANCELED)
	closeOp(t, d, f)
}

// TestSynchronousHandle: a file os.OpenFile opened (no FILE_FLAG_OVERLAPPED) still works,
// its reads and writes running on the driver's workers.
func TestSynchronousHandle(t *testing.T) {
	d := newDriver(t)
	f, err := os.Create(filepath.Join(tempDir(t), "s"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fd := int(f.Fd())
	if res := run(t, d, newRec(poller.Op{Code: poller.OpWrite, Fd: fd, Buf: []byte("sync-io"), Offset: -1})); res != 7 {
		t.Fatalf("write = %d (%v)", res, errOf(res))
	}
	buf := make([]byte, 16)
	if res := run(t, d, newRec(poller.Op{Code: poller.OpRead, Fd: fd, Buf: buf, Offset: 5})); res != 2 || string(buf[:2]) != "io" {
		t.Fatalf("read = %d %q (%v)", res, buf[:max(res, 0)], errOf(res))
	}
	if res := run(t, d, newRec(poller.Op{Code: poller.OpReadv, Fd: fd, Bufs: [][]byte{buf[:3], buf[3:]}, Offset: 0})); res != 7 || string(buf[:7]) != "sync-io" {
		t.Fatalf("readv = %d %q (%v)", res, buf[:max(res, 0)], errOf(res))
	}
	if res := run(t, d, newRec(poller.Op{Code: poller.OpRead, Fd: fd, Buf: buf, Offset: 100})); res != 0 {
		t.Fatalf("read past EOF = %d", res)
	}
}

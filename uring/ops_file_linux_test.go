package uring

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

func TestOpNop(t *testing.T) {
	r := newRing(t, Config{Entries: 4})
	s := sqe(t, r)
	s.SetUserData(5) // before Prep: Prep keeps it
	s.PrepNop()
	wantRes(t, reapOne(t, r, 5), 0)
}

func TestOpReadWrite(t *testing.T) {
	r := newRing(t, Config{Entries: 4})
	f := tempFile(t, nil)
	fd := int(f.Fd())
	data := []byte("hello, io_uring")
	s := sqe(t, r)
	s.PrepWrite(fd, data, 0)
	s.SetUserData(1)
	wantRes(t, reapOne(t, r, 1), int32(len(data)))

	buf := make([]byte, 64)
	s = sqe(t, r)
	s.PrepRead(fd, buf, 7)
	s.SetIoprio(0) // best-effort class, the default
	s.SetUserData(2)
	c := reapOne(t, r, 2)
	if got := buf[:c.Res]; string(got) != "io_uring" {
		t.Fatalf("read %q", got)
	}
	// Offset -1 reads at the file position, which the write did not move.
	s = sqe(t, r)
	s.PrepRead(fd, buf[:5], ^uint64(0))
	s.SetUserData(3)
	if c := reapOne(t, r, 3); string(buf[:c.Res]) != "hello" {
		t.Fatalf("positional read %q", buf[:c.Res])
	}
	runtime.KeepAlive(data)
}

func TestOpReadvWritev(t *testing.T) {
	r := newRing(t, Config{Entries: 4})
	f := tempFile(t, nil)
	fd := int(f.Fd())
	a, b := []byte("vector"), []byte("ed I/O")
	iov := make([]unix.Iovec, 2)
	iov[0].Base, iov[1].Base = &a[0], &b[0]
	iov[0].SetLen(len(a))
	iov[1].SetLen(len(b))
	s := sqe(t, r)
	s.PrepWritev(fd, iov, 0)
	s.SetUserData(1)
	wantRes(t, reapOne(t, r, 1), 12)

	x, y := make([]byte, 4), make([]byte, 8)
	riov := make([]unix.Iovec, 2)
	riov[0].Base, riov[1].Base = &x[0], &y[0]
	riov[0].SetLen(len(x))
	riov[1].SetLen(len(y))
	s = sqe(t, r)
	s.PrepReadv(fd, riov, 0)
	s.SetUserData(2)
	wantRes(t, reapOne(t, r, 2), 12)
	if string(x)+string(y) != "vectored I/O" {
		t.Fatalf("readv %q %q", x, y)
	}
	runtime.KeepAlive(iov)
	runtime.KeepAlive(riov)
}

func TestOpReadWriteFixed(t *testing.T) {
	r := newRing(t, Config{Entries: 4})
	reg := make([]byte, 4096)
	if err := r.RegisterBuffers([][]byte{reg}); err != nil {
		t.Fatalf("RegisterBuffers: %v", err)
	}
	f := tempFile(t, nil)
	fd := int(f.Fd())
	copy(reg[100:], "fixed buffers")
	s := sqe(t, r)
	s.PrepWriteFixed(fd, reg[100:113], 0, 0)
	s.SetUserData(1)
	wantRes(t, reapOne(t, r, 1), 13)
	s = sqe(t, r)
	s.PrepReadFixed(fd, reg[2000:2013], 0, 0)
	s.SetUserData(2)
	wantRes(t, reapOne(t, r, 2), 13)
	if string(reg[2000:2013]) != "fixed buffers" {
		t.Fatalf("read_fixed %q", reg[2000:2013])
	}
	if err := r.UnregisterBuffers(); err != nil {
		t.Fatalf("UnregisterBuffers: %v", err)
	}
	s = sqe(t, r)
	s.PrepReadFixed(fd, reg[:8], 0, 0)
	s.SetUserData(3)
	if c := reapOne(t, r, 3); c.Res >= 0 {
		t.Fatalf("read_fixed after unregister: %+v", c)
	}
	runtime.KeepAlive(reg)
}

func TestOpFsync(t *testing.T) {
	r := newRing(t, Config{Entries: 4})
	f := tempFile(t, []byte("durable"))
	for i, fl := range []FsyncFlags{0, FsyncDatasync} {
		s := sqe(t, r)
		s.PrepFsync(int(f.Fd()), fl)
		s.SetUserData(uint64(i))
		wantRes(t, reapOne(t, r, uint64(i)), 0)
	}
}

func TestOpFallocateFtruncate(t *testing.T) {
	r := newRing(t, Config{Entries: 4})
	f := tempFile(t, nil)
	fd := int(f.Fd())
	s := sqe(t, r)
	s.PrepFallocate(fd, 0, 0, 1<<20)
	s.SetUserData(1)
	wantRes(t, reapOne(t, r, 1), 0)
	if st, _ := f.Stat(); st.Size() != 1<<20 {
		t.Fatalf("size after fallocate: %d", st.Size())
	}
	s = sqe(t, r)
	s.PrepFtruncate(fd, 123)
	s.SetUserData(2)
	wantRes(t, reapOne(t, r, 2), 0)
	if st, _ := f.Stat(); st.Size() != 123 {
		t.Fatalf("size after ftruncate: %d", st.Size())
	}
}

func TestOpOpenatClose(t *testing.T) {
	r := newRing(t, Config{Entries: 4})
	path := cstr(t, filepath.Join(t.TempDir(), "new"))
	s := sqe(t, r)
	s.PrepOpenat(unix.AT_FDCWD, path, unix.O_CREAT|unix.O_RDWR|unix.O_CLOEXEC, 0o600)
	s.SetUserData(1)
	c := reapOne(t, r, 1)
	if c.Res < 0 {
		t.Fatalf("openat: %v", c.Err())
	}
	fd := int(c.Res)
	s = sqe(t, r)
	s.PrepClose(fd)
	s.SetUserData(2)
	wantRes(t, reapOne(t, r, 2), 0)
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != unix.EBADF {
		t.Fatalf("fd %d still open after close: %v", fd, err)
	}
	runtime.KeepAlive(path)
}

func TestOpStatx(t *testing.T) {
	r := newRing(t, Config{Entries: 4})
	f := tempFile(t, []byte("12345"))
	path := cstr(t, f.Name())
	var st unix.Statx_t
	s := sqe(t, r)
	s.PrepStatx(unix.AT_FDCWD, path, 0, unix.STATX_SIZE|unix.STATX_MODE, &st)
	s.SetUserData(1)
	wantRes(t, reapOne(t, r, 1), 0)
	if st.Size != 5 || st.Mode&unix.S_IFMT != unix.S_IFREG {
		t.Fatalf("statx: size %d mode %#o", st.Size, st.Mode)
	}
	runtime.KeepAlive(path)
}

func TestOpMkdirRenameUnlink(t *testing.T) {
	r := newRing(t, Config{Entries: 4})
	dir := t.TempDir()
	d1, d2 := cstr(t, filepath.Join(dir, "a")), cstr(t, filepath.Join(dir, "b"))
	s := sqe(t, r)
	s.PrepMkdirat(unix.AT_FDCWD, d1, 0o700)
	s.SetUserData(1)
	wantRes(t, reapOne(t, r, 1), 0)
	s = sqe(t, r)
	s.PrepRenameat(unix.AT_FDCWD, d1, unix.AT_FDCWD, d2, 0)
	s.SetUserData(2)
	wantRes(t, reapOne(t, r, 2), 0)
	if _, err := os.Stat(filepath.Join(dir, "b")); err != nil {
		t.Fatalf("after rename: %v", err)
	}
	s = sqe(t, r)
	s.PrepUnlinkat(unix.AT_FDCWD, d2, unix.AT_REMOVEDIR)
	s.SetUserData(3)
	wantRes(t, reapOne(t, r, 3), 0)
	s = sqe(t, r)
	s.PrepUnlinkat(unix.AT_FDCWD, d2, 0)
	s.SetUserData(4)
	wantRes(t, reapOne(t, r, 4), errnoRes(unix.ENOENT))
	runtime.KeepAlive(d1)
	runtime.KeepAlive(d2)
}

func TestOpCloseFixed(t *testing.T) {
	r := newRing(t, Config{Entries: 4})
	if err := r.RegisterFilesSparse(4); err != nil {
		t.Fatalf("RegisterFilesSparse: %v", err)
	}
	pr, pw := pipe(t)
	if n, err := r.RegisterFilesUpdate(1, []int32{int32(pw)}); n != 1 || err != nil {
		t.Fatalf("RegisterFilesUpdate = %d, %v", n, err)
	}
	msg := []byte("via slot 1")
	s := sqe(t, r)
	s.PrepWrite(1, msg, 0)
	s.SetFlags(SQEFixedFile)
	s.SetUserData(1)
	wantRes(t, reapOne(t, r, 1), int32(len(msg)))
	buf := make([]byte, 32)
	if n, _ := unix.Read(pr, buf); !bytes.Equal(buf[:n], msg) {
		t.Fatalf("pipe got %q", buf[:n])
	}
	s = sqe(t, r)
	s.PrepCloseFixed(1)
	s.SetUserData(2)
	wantRes(t, reapOne(t, r, 2), 0)
	s = sqe(t, r)
	s.PrepWrite(1, msg, 0)
	s.SetFlags(SQEFixedFile)
	s.SetUserData(3)
	wantRes(t, reapOne(t, r, 3), errnoRes(unix.EBADF))
	if err := r.UnregisterFiles(); err != nil {
		t.Fatalf("UnregisterFiles: %v", err)
	}
	runtime.KeepAlive(msg)
}

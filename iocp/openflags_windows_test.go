package iocp_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/zokio/zokio/iocp"
	"github.com/zokio/zokio/poller"
)

func openRes(t *testing.T, d *iocp.Driver, path string, flags int) int32 {
	t.Helper()
	return run(t, d, newRec(poller.Op{Code: poller.OpOpenat, Fd: poller.AtFDCWD, Path: path, Arg: uint32(flags), Mode: 0o644}))
}

// OpOpenat's OpenDirectory, OpenNoFollow, OpenDirect and OpenSync: a file named with
// OpenDirectory is ENOTDIR and a directory opens; a symbolic link named with
// OpenNoFollow is ELOOP and a plain file opens; OpenDirect (FILE_FLAG_NO_BUFFERING)
// writes and reads sector-aligned blocks; OpenSync (FILE_FLAG_WRITE_THROUGH) writes.
func TestOpenFlags(t *testing.T) {
	d := newDriver(t)
	dir := tempDir(t)
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("data"), 0o644); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "OpenDirectory on a file", openRes(t, d, file, poller.OpenRdOnly|poller.OpenDirectory), syscall.ENOTDIR)
	if res := openRes(t, d, dir, poller.OpenRdOnly|poller.OpenDirectory); res < 0 {
		t.Fatalf("OpenDirectory on a directory: %v", errOf(res))
	} else {
		closeOp(t, d, windows.Handle(res))
	}
	if res := openRes(t, d, file, poller.OpenRdOnly|poller.OpenNoFollow); res < 0 {
		t.Fatalf("OpenNoFollow on a file: %v", errOf(res))
	} else {
		closeOp(t, d, windows.Handle(res))
	}
	link := filepath.Join(dir, "link")
	switch err := os.Symlink("file", link); {
	case err != nil:
		t.Logf("no symbolic link here (%v): OpenNoFollow's ELOOP not checked", err)
	case underWine():
		// Wine 8 difference: os.Symlink succeeds, but the link it makes is no reparse
		// point that Windows' calls see: os.Lstat fails on it, and CreateFile with
		// FILE_FLAG_OPEN_REPARSE_POINT says ERROR_FILE_NOT_FOUND. The open must still
		// fail, never open the target.
		res := openRes(t, d, link, poller.OpenRdOnly|poller.OpenNoFollow)
		if res >= 0 {
			closeOp(t, d, windows.Handle(res))
			t.Fatal("OpenNoFollow on a link opened it")
		}
		t.Logf("under Wine, OpenNoFollow on a link: %v (ELOOP on Windows)", errOf(res))
		os.Remove(link)
	default:
		wantErr(t, "OpenNoFollow on a link", openRes(t, d, link, poller.OpenRdOnly|poller.OpenNoFollow), syscall.ELOOP)
		if res := openRes(t, d, link, poller.OpenRdOnly); res < 0 { // followed without the flag
			t.Fatalf("open through the link: %v", errOf(res))
		} else {
			closeOp(t, d, windows.Handle(res))
		}
		st := new(poller.Statx)
		if res := run(t, d, newRec(poller.Op{Code: poller.OpStatx, Fd: poller.AtFDCWD, Path: link, Arg: poller.AtSymlinkNoFollow,
			Mode: poller.StatxBasicStats, Buf: st.Bytes()})); res != 0 || st.Mode&poller.ModeTypeMask != poller.ModeSymlink {
			t.Fatalf("statx AtSymlinkNoFollow of the link: %v, mode %o", errOf(res), st.Mode)
		}
		os.Remove(link)
	}

	// Unbuffered: one 4096-byte block, aligned in memory, at offset 4096.
	raw := make([]byte, 2*4096)
	off := (4096 - int(uintptr(unsafe.Pointer(&raw[0]))%4096)) % 4096
	block := raw[off : off+4096]
	for i := range block {
		block[i] = byte(i)
	}
	res := openRes(t, d, filepath.Join(dir, "direct"), poller.OpenRdWr|poller.OpenCreate|poller.OpenDirect|poller.OpenSync)
	if res < 0 {
		t.Fatalf("open OpenDirect|OpenSync: %v", errOf(res))
	}
	h := windows.Handle(res)
	if n := run(t, d, newRec(poller.Op{Code: poller.OpWrite, Fd: int(h), Buf: block, Offset: 4096})); n != 4096 {
		t.Fatalf("unbuffered write = %d (%v)", n, errOf(n))
	}
	clear(block)
	if n := run(t, d, newRec(poller.Op{Code: poller.OpRead, Fd: int(h), Buf: block, Offset: 4096})); n != 4096 || block[4095] != byte(4095%256) {
		t.Fatalf("unbuffered read = %d (%v), last byte %d", n, errOf(n), block[4095])
	}
	closeOp(t, d, h)
}

// OpStatx fills a poller.Statx and says in Mask what it filled: the basic fields always
// (not Uid, Gid), Ctime and Blocks only when Mode asks for them.
func TestStatxMask(t *testing.T) {
	d := newDriver(t)
	dir := tempDir(t)
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, make([]byte, 5000), 0o644); err != nil {
		t.Fatal(err)
	}
	basic := uint32(poller.StatxType | poller.StatxMode | poller.StatxNlink | poller.StatxAtime | poller.StatxMtime |
		poller.StatxIno | poller.StatxFileSize | poller.StatxBtime)
	st := new(poller.Statx)
	if res := run(t, d, newRec(poller.Op{Code: poller.OpStatx, Fd: poller.AtFDCWD, Path: file,
		Mode: poller.StatxFileSize, Buf: st.Bytes()})); res != 0 {
		t.Fatalf("statx: %v", errOf(res))
	}
	if st.Mask != basic || st.Size != 5000 || st.Mode != poller.ModeRegular|0o666 || st.Nlink != 1 {
		t.Fatalf("statx size only: mask %#x (want %#x), size %d, mode %o, nlink %d", st.Mask, basic, st.Size, st.Mode, st.Nlink)
	}
	if age := time.Since(time.Unix(st.Mtime.Sec, int64(st.Mtime.Nsec))); age < -time.Minute || age > time.Hour {
		t.Fatalf("mtime %v ago", age)
	}
	st2 := new(poller.Statx)
	if res := run(t, d, newRec(poller.Op{Code: poller.OpStatx, Fd: poller.AtFDCWD, Path: file,
		Mode: poller.StatxBasicStats | poller.StatxBtime, Buf: st2.Bytes()})); res != 0 {
		t.Fatalf("statx: %v", errOf(res))
	}
	if want := basic | poller.StatxCtime | poller.StatxBlocks; st2.Mask != want || st2.Blocks < 10 || st2.Ctime.Sec == 0 {
		t.Fatalf("statx basic stats: mask %#x (want %#x), blocks %d, ctime %d", st2.Mask, want, st2.Blocks, st2.Ctime.Sec)
	}
	if st2.Ino != st.Ino || st2.Ino == 0 {
		t.Fatalf("file index %d then %d", st.Ino, st2.Ino)
	}
	if res := run(t, d, newRec(poller.Op{Code: poller.OpStatx, Fd: poller.AtFDCWD, Path: dir,
		Mode: poller.StatxType, Buf: st.Bytes()})); res != 0 || st.Mode&poller.ModeTypeMask != poller.ModeDir {
		t.Fatalf("statx of a directory: %v, mode %o", errOf(res), st.Mode)
	}
}

// underWine reports whether the test runs under Wine: ntdll then exports
// wine_get_version.
func underWine() bool {
	return windows.NewLazySystemDLL("ntdll.dll").NewProc("wine_get_version").Find() == nil
}

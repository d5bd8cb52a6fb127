package iocp

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/windows"
)

// TestSynchronousDetection: os.Create's handle is synchronous, a FILE_FLAG_OVERLAPPED one
// is not, so only the first goes to the workers.
func TestSynchronousDetection(t *testing.T) {
	dir, err := os.MkdirTemp("", "iocp")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "f")
	defer os.Remove(dir)
	defer os.Remove(path)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if !synchronous(windows.Handle(f.Fd())) {
		t.Error("os.Create's handle not seen as synchronous")
	}
	p, _ := windows.UTF16PtrFromString(path)
	h, err := windows.CreateFile(p, windows.GENERIC_READ, windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE, nil,
		windows.OPEN_EXISTING, windows.FILE_FLAG_OVERLAPPED, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer windows.CloseHandle(h)
	if synchronous(h) {
		t.Error("an overlapped handle seen as synchronous")
	}
}

//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package zfile

import (
	"errors"
	"os"
	"testing"
)

// TestNilFileAndLoop: a nil *File answers its accessors as os.File's do instead of
// crashing, and a Batch made without a loop refuses Submit with an error, sending
// nothing (both used to panic).
func TestNilFileAndLoop(t *testing.T) {
	var nf *File
	if nf.Name() != "" || nf.Fd() != ^uintptr(0) || nf.Loop() != nil || nf.Fixed() {
		t.Errorf("nil File: Name %q, Fd %#x, Loop %v, Fixed %v", nf.Name(), nf.Fd(), nf.Loop(), nf.Fixed())
	}
	forEachDriver(t, 1, func(t *testing.T, e *env) {
		name := e.path("data")
		writeFile(t, name, 64)
		f := mustOpen(t, e, name, os.O_RDWR, OpenOptions{NoFastPath: true})
		defer f.Close()
		b := NewBatch(nil)
		b.Sync(f)
		b.ReadAt(f, make([]byte, 8), 0)
		if err := b.Submit(ctxT(t)); !errors.Is(err, errNoLoop) {
			t.Fatalf("Submit of a batch without a loop: %v", err)
		}
		if _, err := b.Result(0); !errors.Is(err, errNotSent) {
			t.Fatalf("Result of an op never sent: %v", err)
		}
		if err := b.Wait(ctxT(t)); !errors.Is(err, errNoLoop) {
			t.Fatalf("Wait, which submits first, of a batch without a loop: %v", err)
		}
	})
}

package testkit

import (
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"testing"
)

// TestTempDirRemoved fills a TempDir with nested files and checks that its cleanup
// (run here by a subtest's end) leaves nothing behind.
func TestTempDirRemoved(t *testing.T) {
	var dir string
	t.Run("fill", func(t *testing.T) {
		dir = TempDir(t)
		sub := filepath.Join(dir, "a", "b")
		if err := os.MkdirAll(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{filepath.Join(dir, "f"), filepath.Join(dir, "a", "g"), filepath.Join(sub, "h")} {
			if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	})
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("after cleanup: %v", err)
	}
}

// TestFDCount sees a file it opens in the count, and the count drop when it closes.
func TestFDCount(t *testing.T) {
	before := FDCount(t)
	f, err := os.Open(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	during := FDCount(t)
	f.Close()
	after := FDCount(t)
	if during <= before || after >= during {
		t.Fatalf("counts: before %d, open %d, closed %d", before, during, after)
	}
}

// TestFDCountSockets sees a listening socket in the count, and the count drop when
// it closes.
func TestFDCountSockets(t *testing.T) {
	// A first listener makes Go's poller set itself up (on Linux: an epoll descriptor
	// and an eventfd), which would count.
	warm, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	warm.Close()
	before := FDCount(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	during := FDCount(t)
	ln.Close()
	if after := FDCount(t); during != before+1 || after != before {
		t.Fatalf("counts: before %d, listening %d, closed %d", before, during, after)
	}
}

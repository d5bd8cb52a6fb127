package zfile

import (
	"bytes"
	"context"
	"os"
	"testing"

	"github.com/zokio/zokio/internal/rawsys"
)

// TestFastPathSizes: reads of cached data on both sides of rawsys.MaxCopy (a raw system
// call up to it, a scheduler-aware one above it), single and vectored, return the
// file's bytes without sending a single op to the driver.
func TestFastPathSizes(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, e *env) {
		name := e.path("data")
		const size = 1 << 20
		want := writeFile(t, name, size)
		f := mustOpen(t, e, name, os.O_RDONLY, OpenOptions{})
		defer f.Close()
		p := make([]byte, size)
		if _, err := f.ReadAt(p, 0); err != nil { // fault the pages in, if the write left any out
			t.Fatal(err)
		}
		l := f.Loop()
		_ = l.Call(context.Background(), func() {})
		before := l.Stats().OpsSubmitted
		for _, n := range []int{1, 4096, rawsys.MaxCopy - 1, rawsys.MaxCopy, rawsys.MaxCopy + 1, 256 << 10} {
			off := int64(size - n - 4096)
			clear(p[:n])
			if m, err := f.ReadAt(p[:n], off); err != nil || m != n {
				t.Fatalf("ReadAt %d bytes: %d, %v", n, m, err)
			}
			if !bytes.Equal(p[:n], want[off:off+int64(n)]) {
				t.Fatalf("ReadAt %d bytes at %d: wrong data", n, off)
			}
			// The same bytes in three buffers: the vectored call's size is their sum.
			a, b := n/3, 2*n/3
			clear(p[:n])
			if m, err := f.ReadvAt([][]byte{p[:a], p[a:b], p[b:n]}, off); err != nil || m != n {
				t.Fatalf("ReadvAt %d bytes: %d, %v", n, m, err)
			}
			if !bytes.Equal(p[:n], want[off:off+int64(n)]) {
				t.Fatalf("ReadvAt %d bytes at %d: wrong data", n, off)
			}
		}
		_ = l.Call(context.Background(), func() {})
		if ops := l.Stats().OpsSubmitted - before; ops != 0 {
			t.Errorf("cached reads sent %d ops to the driver", ops)
		}
	})
}

package bufgroup

import (
	"errors"
	"syscall"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestGroupFIFO: ids come out in order, come back in release order, and stray or
// double releases change nothing.
func TestGroupFIFO(t *testing.T) {
	g, err := New(1, 4, 16)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Free()
	ids := make([]uint16, 8)
	if n := g.PeekN(ids); n != 4 || ids[0] != 0 || ids[3] != 3 {
		t.Fatalf("PeekN = %d %v", n, ids[:n])
	}
	g.Take()
	g.Take()
	g.Release(1)
	g.Release(1) // double: ignored
	g.Release(3) // not out: ignored
	g.Release(9) // out of range: ignored
	if g.Available() != 3 {
		t.Fatalf("Available = %d, want 3", g.Available())
	}
	if n := g.PeekN(ids); n != 3 || ids[0] != 2 || ids[1] != 3 || ids[2] != 1 {
		t.Fatalf("PeekN after release = %v", ids[:n])
	}
	b := g.Bytes(2)
	if len(b) != 16 || cap(b) != 16 {
		t.Fatalf("Bytes: len %d cap %d", len(b), cap(b))
	}
	b[15] = 7 // the memory is writable
	g.Free()
	if g.Bytes(0) != nil || g.PeekN(ids) != 0 {
		t.Fatal("group usable after Free")
	}
}

func TestGroupBadInput(t *testing.T) {
	for _, c := range [][2]int{{0, 8}, {3, 8}, {65536, 8}, {4, 0}, {4, -1}} {
		if _, err := New(1, c[0], c[1]); !errors.Is(err, syscall.EINVAL) {
			t.Errorf("New(%d, %d) = %v, want EINVAL", c[0], c[1], err)
		}
	}
	var g *Group
	if g.PeekN(make([]uint16, 1)) != 0 || g.Available() != 0 {
		t.Fatal("nil group has buffers")
	}
	g.Release(0)
}

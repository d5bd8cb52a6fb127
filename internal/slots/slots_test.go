package slots

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestTable: fresh slots in order until Size, given-back ones first (last in, first
// out), none when all are out.
func TestTable(t *testing.T) {
	tb := Table{Size: 3}
	for want := range 3 {
		if s, ok := tb.Get(); !ok || s != want {
			t.Fatalf("Get = %d %v, want %d", s, ok, want)
		}
	}
	if s, ok := tb.Get(); ok {
		t.Fatalf("Get on a full table = %d", s)
	}
	tb.Put(1)
	tb.Put(0)
	for _, want := range []int{0, 1} {
		if s, ok := tb.Get(); !ok || s != want {
			t.Fatalf("Get after Put = %d %v, want %d", s, ok, want)
		}
	}
	if _, ok := tb.Get(); ok {
		t.Fatal("a slot out twice")
	}
	if tb.Used() != 3 {
		t.Fatalf("Used = %d, want 3", tb.Used())
	}
	var zero Table
	if _, ok := zero.Get(); ok {
		t.Fatal("the zero Table handed out a slot")
	}
}

package poller

import "testing"

func TestPagedTableStable(t *testing.T) {
	var tb pagedTable[int64]
	p := tb.at(3)
	*p = 42
	tb.at(100000) // grows the page index
	if tb.at(3) != p || *p != 42 {
		t.Fatal("entry moved when the table grew")
	}
	if tb.peek(-1) != nil || tb.peek(1<<30) != nil || tb.peek(5000) != nil {
		t.Fatal("peek created or invented an entry")
	}
}

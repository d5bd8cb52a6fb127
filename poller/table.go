package poller

// pagedTable is a dense table indexed by a small integer (a slot index, a descriptor),
// stored in fixed-size pages so that an entry never moves once created: the readiness
// core holds *fdState and *slot pointers across calls that may grow the table (an accept
// that returns a new, higher descriptor; a Done callback that submits), and a plain
// slice would silently invalidate them on growth. Lookup is two loads, no hashing, no
// allocation once the page exists.
//
// A pagedTable is used only by the loop that owns it.
type pagedTable[T any] struct {
	pages []*[tablePage]T
}

const (
	tableShift = 8
	tablePage  = 1 << tableShift
	tableMask  = tablePage - 1
)

// at returns entry i, creating its page if needed. i must not be negative.
func (t *pagedTable[T]) at(i int) *T {
	p := i >> tableShift
	if p >= len(t.pages) {
		n := max(2*len(t.pages), p+1)
		pages := make([]*[tablePage]T, n)
		copy(pages, t.pages)
		t.pages = pages
	}
	if t.pages[p] == nil {
		t.pages[p] = new([tablePage]T)
	}
	return &t.pages[p][i&tableMask]
}

// peek returns entry i, or nil if its page was never created.
func (t *pagedTable[T]) peek(i int) *T {
	p := i >> tableShift
	if i < 0 || p >= len(t.pages) || t.pages[p] == nil {
		return nil
	}
	return &t.pages[p][i&tableMask]
}

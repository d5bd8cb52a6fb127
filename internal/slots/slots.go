// Package slots hands out the slots of a fixed-size table that a ring registers with
// the kernel (registered files, registered buffers): slots given back first, then ones
// never used. It does no locking; its owner (a loop) is its only user.
package slots

// Table hands out the slots 0 to Size-1. The zero value has no slots; set Size.
type Table struct {
	Size int
	free []int // given back, reused first (last in, first out)
	next int   // slots from next on were never handed out
}

// Get hands out a free slot, or reports false when all Size are out.
func (t *Table) Get() (int, bool) {
	if n := len(t.free); n > 0 {
		s := t.free[n-1]
		t.free = t.free[:n-1]
		return s, true
	}
	if t.next < t.Size {
		t.next++
		return t.next - 1, true
	}
	return 0, false
}

// Put gives slot back for a later Get. The caller gives back only what Get handed out.
func (t *Table) Put(slot int) { t.free = append(t.free, slot) }

// Used returns how many distinct slots have ever been handed out: the table's
// high-water mark.
func (t *Table) Used() int { return t.next }

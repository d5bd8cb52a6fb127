package poller

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// The timer heap against a reference model: a plain slice, sorted on demand.

type refTimer struct {
	when int64
	seq  int
	id   int32
}

func checkHeapAgainst(t *testing.T, ops []byte) {
	t.Helper()
	var h timerHeap
	var ref []refTimer
	seq := 0
	for i, op := range ops {
		id := int32(op%32) + 1
		switch {
		case op < 128: // arm id, unless armed already
			if h.contains(id) {
				continue
			}
			when := int64(op % 7)
			seq++
			h.push(id, when)
			ref = append(ref, refTimer{when, seq, id})
		case op < 200: // disarm id
			j := slices.IndexFunc(ref, func(r refTimer) bool { return r.id == id })
			if got := h.remove(id); got != (j >= 0) {
				t.Fatalf("step %d: remove(%d) = %v, want %v", i, id, got, j >= 0)
			}
			if j >= 0 {
				ref = slices.Delete(ref, j, j+1)
			}
		default: // pop the earliest
			slices.SortFunc(ref, func(a, b refTimer) int {
				if a.when != b.when {
					return int(a.when - b.when)
				}
				return a.seq - b.seq
			})
			id, when, ok := h.peek()
			if ok != (len(ref) > 0) {
				t.Fatalf("step %d: peek ok=%v with %d armed", i, ok, len(ref))
			}
			if !ok {
				continue
			}
			if id != ref[0].id || when != ref[0].when {
				t.Fatalf("step %d: peek = (%d, %d), want (%d, %d)", i, id, when, ref[0].id, ref[0].when)
			}
			h.remove(id)
			ref = ref[1:]
		}
		if h.len() != len(ref) {
			t.Fatalf("step %d: len %d, want %d", i, h.len(), len(ref))
		}
	}
}

func TestTimerHeapMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		ops := make([]byte, 300)
		for i := range ops {
			ops[i] = byte(r.IntN(256))
		}
		checkHeapAgainst(t, ops)
	}
}

func FuzzTimerHeapMatchesReference(f *testing.F) {
	f.Add([]byte{1, 2, 3, 250, 129, 250, 250})
	f.Fuzz(func(t *testing.T, ops []byte) { checkHeapAgainst(t, ops) })
}

func TestTimerHeapNoAllocs(t *testing.T) {
	var h timerHeap
	for i := int32(1); i <= 64; i++ {
		h.push(i, int64(i))
	}
	for i := int32(1); i <= 64; i++ {
		h.remove(i)
	}
	allocs := testing.AllocsPerRun(100, func() {
		for i := int32(1); i <= 64; i++ {
			h.push(i, int64(64-i))
		}
		for i := int32(64); i >= 1; i-- {
			h.remove(i)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per run, want 0", allocs)
	}
}

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

package timerheap

import (
	"go.uber.org/goleak"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The timer heap against a reference model: a plain slice, sorted on demand.

type refTimer struct {
	when int64
	seq  int
	id   int32
}

func checkHeapAgainst(t *testing.T, ops []byte) {
	t.Helper()
	var h Heap
	var ref []refTimer
	seq := 0
	for i, op := range ops {
		id := int32(op%32) + 1
		switch {
		case op < 128: // arm id, unless armed already
			if h.Contains(id) {
				continue
			}
			when := int64(op % 7)
			seq++
			h.Push(id, when)
			ref = append(ref, refTimer{when, seq, id})
		case op < 200: // disarm id
			j := slices.IndexFunc(ref, func(r refTimer) bool { return r.id == id })
			if got := h.Remove(id); got != (j >= 0) {
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
			id, when, ok := h.Peek()
			if ok != (len(ref) > 0) {
				t.Fatalf("step %d: peek ok=%v with %d armed", i, ok, len(ref))
			}
			if !ok {
				continue
			}
			if id != ref[0].id || when != ref[0].when {
				t.Fatalf("step %d: peek = (%d, %d), want (%d, %d)", i, id, when, ref[0].id, ref[0].when)
			}
			h.Remove(id)
			ref = ref[1:]
		}
		if h.Len() != len(ref) {
			t.Fatalf("step %d: len %d, want %d", i, h.Len(), len(ref))
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
	var h Heap
	for i := int32(1); i <= 64; i++ {
		h.Push(i, int64(i))
	}
	for i := int32(1); i <= 64; i++ {
		h.Remove(i)
	}
	allocs := testing.AllocsPerRun(100, func() {
		for i := int32(1); i <= 64; i++ {
			h.Push(i, int64(64-i))
		}
		for i := int32(64); i >= 1; i-- {
			h.Remove(i)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per run, want 0", allocs)
	}
}

package runtime

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
	"testing"
)

// This file keeps the hierarchical timing wheel that timerHeap was measured against, so
// that the choice documented on timerHeap can be re-checked on any machine:
//
//	go test -run='^$' -bench=TimerHeapVsWheel -benchmem ./runtime/
//
// The wheel is a tokio-style design at nanosecond resolution: 11 levels of 64 slots, a
// timer filed at the level of the highest bit in which its deadline differs from the
// wheel's clock, an occupancy bitmap per level, and cascading of a higher slot into
// lower ones when the clock reaches it. Level-0 slots are one nanosecond wide, so they
// hold equal deadlines only and fire in FIFO order, matching timerHeap's order for
// deadlines not yet past (checked by TestTimerWheelMatchesHeap; a deadline already
// behind the wheel's clock is filed at the clock, out of order). It is test code: enough
// to measure fairly, not a second implementation to maintain.

const (
	wheelBits   = 6
	wheelSlots  = 1 << wheelBits
	wheelLevels = 11 // 66 bits cover every non-negative int64 deadline
)

type wheelTimer struct {
	when       int64
	prev, next *wheelTimer
	level      int8 // -1 when idle
	slot       uint8
	fn         func(now int64)
}

type wheelSlot struct{ head, tail *wheelTimer }

type timerWheel struct {
	elapsed  int64
	occupied [wheelLevels]uint64
	slots    [wheelLevels][wheelSlots]wheelSlot
}

func (w *timerWheel) arm(t *wheelTimer, when int64) {
	t.when = when
	w.file(t)
}

// file puts t in the slot for its deadline relative to the wheel's clock.
func (w *timerWheel) file(t *wheelTimer) {
	when := max(t.when, w.elapsed)
	masked := uint64(w.elapsed^when) | (wheelSlots - 1)
	level := (63 - bits.LeadingZeros64(masked)) / wheelBits
	slot := uint8(uint64(when) >> (wheelBits * level) & (wheelSlots - 1))
	t.level, t.slot = int8(level), slot
	s := &w.slots[level][slot]
	t.prev, t.next = s.tail, nil
	if s.tail == nil {
		s.head = t
	} else {
		s.tail.next = t
	}
	s.tail = t
	w.occupied[level] |= 1 << slot
}

func (w *timerWheel) stop(t *wheelTimer) bool {
	if t.level < 0 {
		return false
	}
	s := &w.slots[t.level][t.slot]
	if t.prev == nil {
		s.head = t.next
	} else {
		t.prev.next = t.next
	}
	if t.next == nil {
		s.tail = t.prev
	} else {
		t.next.prev = t.prev
	}
	if s.head == nil {
		w.occupied[t.level] &^= 1 << t.slot
	}
	t.prev, t.next, t.level = nil, nil, -1
	return true
}

// nextSlot returns the earliest occupied slot and the time the wheel reaches it.
func (w *timerWheel) nextSlot() (level, slot int, at int64, ok bool) {
	for level = range wheelLevels {
		occ := w.occupied[level]
		if occ == 0 {
			continue
		}
		shift := uint(wheelBits * level)
		cur := uint(uint64(w.elapsed)>>shift) & (wheelSlots - 1)
		slot = bits.TrailingZeros64(occ >> cur << cur)
		block := uint64(w.elapsed) &^ (1<<(shift+wheelBits) - 1)
		return level, slot, int64(block + uint64(slot)<<shift), true
	}
	return 0, 0, 0, false
}

func (w *timerWheel) fireDue(now int64, budget int) int {
	n := 0
	for n < budget {
		level, slot, at, ok := w.nextSlot()
		if !ok || at > now {
			w.elapsed = max(w.elapsed, now)
			break
		}
		w.elapsed = at
		s := &w.slots[level][slot]
		if level == 0 {
			t := s.head
			w.stop(t)
			n++
			t.fn(now)
			continue
		}
		// Cascade: re-file the slot's timers relative to the advanced clock.
		t := s.head
		s.head, s.tail = nil, nil
		w.occupied[level] &^= 1 << slot
		for t != nil {
			nx := t.next
			w.file(t)
			t = nx
		}
	}
	return n
}

func TestTimerWheelMatchesHeap(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var h timerHeap
	var w timerWheel
	const n = 5000
	var gotH, gotW []int
	ht := make([]*timer, n)
	wt := make([]*wheelTimer, n)
	now := int64(0)
	for i := range n {
		ht[i] = newTimer(func(any, int64) { gotH = append(gotH, i) }, nil)
		wt[i] = &wheelTimer{level: -1, fn: func(int64) { gotW = append(gotW, i) }}
		when := now + rng.Int64N(1<<uint(rng.IntN(40)))
		h.arm(ht[i], when)
		w.arm(wt[i], when)
		if i%3 == 0 {
			now += rng.Int64N(1 << 30)
			h.fireDue(now, 1<<30)
			w.fireDue(now, 1<<30)
		}
	}
	h.fireDue(1<<62, 1<<30)
	w.fireDue(1<<62, 1<<30)
	if fmt.Sprint(gotH) != fmt.Sprint(gotW) {
		t.Fatalf("wheel fired in another order than the heap")
	}
}

// BenchmarkTimerHeapVsWheel measures, with n timers armed at random deadlines spread
// over about 10 ms: arm+fire (the clock advances so that about one timer is due per op;
// each fired timer is re-armed) and arm+stop (arm one more timer, then stop it).
func BenchmarkTimerHeapVsWheel(b *testing.B) {
	for _, n := range []int{1_000, 100_000, 1_000_000} {
		const span = 10_000_000
		delays := make([]int64, 1<<16)
		rng := rand.New(rand.NewPCG(3, 4))
		for i := range delays {
			delays[i] = 1 + rng.Int64N(span)
		}
		step := int64(span / n)
		b.Run(fmt.Sprintf("heap/arm+fire/n=%d", n), func(b *testing.B) {
			var h timerHeap
			now, k := int64(0), 0
			ts := make([]timer, n)
			fn := func(any, int64) {}
			for i := range ts {
				ts[i] = timer{fn: fn}
				h.arm(&ts[i], delays[i&(len(delays)-1)])
			}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				now += step
				for len(h.items) > 0 && h.items[0].when <= now {
					t := h.items[0].t
					h.fireDue(now, 1)
					k++
					h.arm(t, now+delays[k&(len(delays)-1)])
				}
			}
		})
		b.Run(fmt.Sprintf("wheel/arm+fire/n=%d", n), func(b *testing.B) {
			w := new(timerWheel)
			now, k := int64(0), 0
			var fired *wheelTimer
			ts := make([]wheelTimer, n)
			for i := range ts {
				t := &ts[i]
				*t = wheelTimer{level: -1, fn: func(int64) { fired = t }}
				w.arm(t, delays[i&(len(delays)-1)])
			}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				now += step
				for {
					fired = nil
					w.fireDue(now, 1)
					if fired == nil {
						break
					}
					k++
					w.arm(fired, now+delays[k&(len(delays)-1)])
				}
			}
		})
		b.Run(fmt.Sprintf("heap/arm+stop/n=%d", n), func(b *testing.B) {
			var h timerHeap
			ts := make([]timer, n+1)
			for i := range ts {
				ts[i] = timer{fn: func(any, int64) {}}
			}
			for i := range n {
				h.arm(&ts[i], delays[i&(len(delays)-1)])
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				h.arm(&ts[n], delays[i&(len(delays)-1)])
				h.stop(&ts[n])
			}
		})
		b.Run(fmt.Sprintf("wheel/arm+stop/n=%d", n), func(b *testing.B) {
			w := new(timerWheel)
			ts := make([]wheelTimer, n+1)
			for i := range ts {
				ts[i] = wheelTimer{level: -1, fn: func(int64) {}}
			}
			for i := range n {
				w.arm(&ts[i], delays[i&(len(delays)-1)])
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				w.arm(&ts[n], delays[i&(len(delays)-1)])
				w.stop(&ts[n])
			}
		})
	}
}

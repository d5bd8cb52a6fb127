package runtime

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// fuzzTimers is how many timers FuzzTimersMatchReference juggles: few, so that the
// same timer is armed, stopped, reset and fired many times in one input.
const fuzzTimers = 8

// Callback behaviours in FuzzTimersMatchReference, applied identically to the heap and
// the model when a timer fires.
const (
	modeNone     = iota
	modePeriodic // re-arm itself for now + id + 1
	modeMeddle   // stop timer id+1, reset timer id+2 to fire at now (same fireDue)
	modeCount
)

// FuzzTimersMatchReference runs an op sequence (arm, stop, reset, clock advance, fire
// with a budget, next deadline, and callbacks that re-arm or disturb other timers) on a
// timerHeap and on the model, two input bytes per op, and requires the same results,
// fired order included. Deadlines span a few hundred nanoseconds, some in the past, so
// ties (which must fire first-armed first) are frequent.
func FuzzTimersMatchReference(f *testing.F) {
	f.Add([]byte{0, 10, 8, 10, 16, 5, 3, 20, 4, 9})
	f.Add([]byte{6, 0, 0, 3, 3, 100, 4, 1, 4, 200, 5, 0})
	f.Add([]byte{7, 0, 0, 64, 8, 64, 16, 64, 3, 0, 4, 255, 1, 0, 2, 64, 4, 255})
	f.Add([]byte{0, 1, 8, 1, 16, 1, 24, 1, 2, 1, 10, 1, 3, 1, 4, 255})
	f.Fuzz(func(t *testing.T, in []byte) {
		var h timerHeap
		ref := &refTimers{}
		var timers [fuzzTimers]timer
		var modes [fuzzTimers]int
		var now int64
		var fired, refFired []int
		// act applies a fired timer's behaviour; arm and stop are the heap's or the
		// model's operations.
		act := func(id int, now int64, arm func(id int, when int64), stop func(id int)) {
			switch modes[id] {
			case modePeriodic:
				arm(id, now+int64(id)+1)
			case modeMeddle:
				stop((id + 1) % fuzzTimers)
				arm((id+2)%fuzzTimers, now)
			}
		}
		realArm := func(id int, when int64) { h.reset(&timers[id], when) }
		realStop := func(id int) { h.stop(&timers[id]) }
		refArm := func(id int, when int64) { ref.arm(id, when) }
		refStop := func(id int) { ref.stop(id) }
		for i := range timers {
			timers[i] = timer{arg: i, fn: func(arg any, now int64) {
				id := arg.(int)
				fired = append(fired, id)
				act(id, now, realArm, realStop)
			}}
		}
		for k := 0; k+1 < len(in); k += 2 {
			op, id, arg := in[k]%8, int(in[k]>>3)%fuzzTimers, int64(in[k+1])
			when := now + arg - 64
			switch op {
			case 0:
				if timers[id].armed() != ref.isArmed(id) {
					t.Fatalf("op %d: timer %d armed=%v, model disagrees", k, id, timers[id].armed())
				}
				if !timers[id].armed() {
					h.arm(&timers[id], when)
					ref.arm(id, when)
				}
			case 1:
				if got, want := h.stop(&timers[id]), ref.stop(id); got != want {
					t.Fatalf("op %d: stop(%d) = %v, model %v", k, id, got, want)
				}
			case 2:
				if got, want := h.reset(&timers[id], when), ref.arm(id, when); got != want {
					t.Fatalf("op %d: reset(%d) = %v, model %v", k, id, got, want)
				}
			case 3:
				now += arg
			case 4, 5:
				budget := int(arg % 6)
				fired, refFired = fired[:0], refFired[:0]
				n := h.fireDue(now, budget)
				for range budget {
					id, ok := ref.popDue(now)
					if !ok {
						break
					}
					refFired = append(refFired, id)
					act(id, now, refArm, refStop)
				}
				if n != len(fired) || !slices.Equal(fired, refFired) {
					t.Fatalf("op %d: fireDue(%d, %d) = %d fired %v, model %v", k, now, budget, n, fired, refFired)
				}
			case 6:
				gw, gok := h.next()
				ww, wok := ref.next()
				if gw != ww || gok != wok {
					t.Fatalf("op %d: next() = %d, %v; model %d, %v", k, gw, gok, ww, wok)
				}
			case 7:
				modes[id] = int(arg) % modeCount
			}
			if h.len() != len(ref.armed) {
				t.Fatalf("op %d: %d timers armed, model %d", k, h.len(), len(ref.armed))
			}
		}
	})
}

func TestTimerArmTwicePanics(t *testing.T) {
	var h timerHeap
	tm := newTimer(func(any, int64) {}, nil)
	h.arm(tm, 10)
	defer func() {
		if recover() == nil {
			t.Fatal("arming an armed timer did not panic")
		}
	}()
	h.arm(tm, 20)
}

func TestTimerPeriodicRearmsInsideFire(t *testing.T) {
	var h timerHeap
	count := 0
	var tm *timer
	tm = newTimer(func(_ any, now int64) {
		count++
		h.arm(tm, now) // due at once: fires again within the same call, up to the budget
	}, nil)
	h.arm(tm, 0)
	if n := h.fireDue(0, 5); n != 5 || count != 5 || !tm.armed() {
		t.Fatalf("fired %d (count %d, armed %v), want a budget of 5 with the timer re-armed", n, count, tm.armed())
	}
	if h.fireDue(0, 0) != 0 {
		t.Fatal("a zero budget fired a timer")
	}
}

func TestDeadlineAfterSaturates(t *testing.T) {
	if d := deadlineAfter(time.Duration(math.MaxInt64)); d != math.MaxInt64 {
		t.Fatalf("deadlineAfter(max) = %d", d)
	}
	before := nanotime()
	if d := deadlineAfter(-time.Second); d >= before {
		t.Fatalf("a negative duration gave a deadline %d not in the past (now %d)", d, before)
	}
	if a, b := nanotime(), nanotime(); b < a {
		t.Fatalf("nanotime went backwards: %d then %d", a, b)
	}
}

// TestTimersMillion arms a million timers at random deadlines, stops and resets a few in
// every firing round, and fires them all as the clock advances: each timer that was not
// stopped fires exactly once, never early, and in (deadline, arm order) order.
func TestTimersMillion(t *testing.T) {
	n := stressTimers
	if testing.Short() {
		n /= 10
	}
	rng := rand.New(rand.NewPCG(7, 11))
	const span = int64(time.Second)
	var h timerHeap
	timers := make([]timer, n)
	fires := make([]uint8, n)
	stopped := make([]bool, n)
	var now, lastWhen int64
	var lastSeq uint64
	fn := func(arg any, at int64) {
		i := arg.(int)
		tm := &timers[i]
		if tm.when > at || tm.when < lastWhen || (tm.when == lastWhen && tm.seq < lastSeq) {
			t.Fatalf("timer %d (when %d seq %d) fired at %d after (%d, %d)", i, tm.when, tm.seq, at, lastWhen, lastSeq)
		}
		lastWhen, lastSeq = tm.when, tm.seq
		fires[i]++
	}
	for i := range timers {
		timers[i] = timer{fn: fn, arg: i}
		h.arm(&timers[i], rng.Int64N(span))
	}
	wantFires := n
	for now < span {
		now += rng.Int64N(span / 1000)
		for range 10 {
			i := rng.IntN(n)
			if rng.IntN(2) == 0 {
				if h.stop(&timers[i]) {
					stopped[i] = true
					wantFires--
				}
			} else if !stopped[i] && fires[i] == 0 {
				h.reset(&timers[i], now+rng.Int64N(span-now+1))
			}
		}
		for h.fireDue(now, 1000) == 1000 {
		}
	}
	h.fireDue(math.MaxInt64, math.MaxInt)
	got := 0
	for i, f := range fires {
		if f > 1 || (f == 1) == stopped[i] {
			t.Fatalf("timer %d fired %d times (stopped %v)", i, f, stopped[i])
		}
		got += int(f)
	}
	if got != wantFires || h.len() != 0 {
		t.Fatalf("%d timers fired, want %d; %d still armed", got, wantFires, h.len())
	}
}

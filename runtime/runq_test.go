package runtime

import (
	"sync"
	"sync/atomic"
	"testing"
)

// idTasks hands out tasks from a free list and remembers which value each stands for,
// so that differential tests can compare a real queue's tasks with a model's integers.
type idTasks struct {
	free taskFreeList
	id   map[*task]int
	next int
}

func newIDTasks() *idTasks { return &idTasks{id: make(map[*task]int)} }

func (s *idTasks) get() (*task, int) {
	t := s.free.get(func() {})
	s.next++
	s.id[t] = s.next
	return t, s.next
}

// done recycles t after checking it is a queued task, and returns its value.
func (s *idTasks) done(t *task) int {
	v, ok := s.id[t]
	if !ok || t.state != taskQueued {
		panic("task handed out twice or never queued")
	}
	delete(s.id, t)
	s.free.run(t)
	return v
}

// FuzzRunqMatchesReference drives two runqs (a victim and a thief, each stealing from
// the other) and their reference models with the same op sequence, one op per input
// byte, and requires the same results after every op. With -tags zokio_smallq the ring
// has 8 slots, so wrap-around, overflow and steals into a partly full ring are common.
func FuzzRunqMatchesReference(f *testing.F) {
	f.Add([]byte{0, 0, 0, 2, 2, 2, 2})
	f.Add([]byte{6, 255, 4, 3, 3, 7, 9, 2, 5, 5})
	f.Add([]byte{0, 1, 0, 1, 4, 5, 4, 5, 2, 3, 2, 3})
	f.Add([]byte{6, 40, 6, 40, 4, 6, 200, 7, 13, 5, 4, 7, 255, 3, 3, 3})
	f.Fuzz(func(t *testing.T, ops []byte) {
		tasks := newIDTasks()
		var real [2]runq
		ref := [2]*refRunq{{order: 0}, {order: 1}}
		check := func(op int) {
			for i := range real {
				if real[i].len() != ref[i].len() || real[i].stealable() != ref[i].stealable() {
					t.Fatalf("op %d: queue %d len %d stealable %d, model %d %d", op, i,
						real[i].len(), real[i].stealable(), ref[i].len(), ref[i].stealable())
				}
			}
		}
		pop := func(op, i int) {
			got := real[i].pop()
			want, ok := ref[i].pop()
			if (got != nil) != ok || (ok && tasks.done(got) != want) {
				t.Fatalf("op %d: pop from queue %d differs from the model (want %d, %v)", op, i, want, ok)
			}
		}
		for k := 0; k < len(ops); k++ {
			op := ops[k]
			arg := 1
			if k+1 < len(ops) {
				arg = int(ops[k+1]) + 1
			}
			switch i := int(op & 1); op % 8 {
			case 0, 1:
				tk, v := tasks.get()
				real[i].push(tk)
				ref[i].push(v)
			case 2, 3:
				pop(k, i)
			case 4, 5:
				got := real[i].stealHalf(&real[1-i])
				if want := ref[i].stealHalf(ref[1-i]); got != want {
					t.Fatalf("op %d: stealHalf moved %d tasks, model %d", k, got, want)
				}
			case 6:
				for range arg % (runqSize/2 + 8) {
					tk, v := tasks.get()
					real[0].push(tk)
					ref[0].push(v)
				}
				k++
			case 7:
				for range arg % (runqSize/2 + 8) {
					pop(k, int(op>>3)&1)
				}
				k++
			}
			check(k)
		}
		for i := range real {
			for real[i].len() > 0 {
				pop(-1, i)
			}
			if _, ok := ref[i].pop(); ok {
				t.Fatalf("queue %d empty, model not", i)
			}
		}
	})
}

func TestTaskDequeFIFOAcrossGrowth(t *testing.T) {
	var d taskDeque
	var free taskFreeList
	in := make([]*task, 0, 1000)
	next := 0
	// Interleave pushes and pops so the ring wraps before each growth.
	for round := range 10 {
		for range 50 + round*20 {
			tk := free.get(nil)
			in = append(in, tk)
			d.pushBack(tk)
		}
		for range 30 {
			if got := d.popFront(); got != in[next] {
				t.Fatalf("round %d: popFront returned task %p, want %p", round, got, in[next])
			}
			next++
		}
	}
	for d.len() > 0 {
		if d.popFront() != in[next] {
			t.Fatal("order broken while draining")
		}
		next++
	}
	if next != len(in) || d.popFront() != nil {
		t.Fatalf("drained %d of %d tasks", next, len(in))
	}
}

func TestTaskFreeListRecyclesAndBounds(t *testing.T) {
	var l taskFreeList
	tasks := make([]*task, freeListMax+5)
	for i := range tasks {
		tasks[i] = l.get(func() {})
	}
	ran := 0
	for _, tk := range tasks {
		tk.fn = func() { ran++ }
		l.run(tk)
	}
	if ran != len(tasks) || l.len() != freeListMax {
		t.Fatalf("ran %d tasks, free list holds %d; want %d and %d", ran, l.len(), len(tasks), freeListMax)
	}
	if tk := l.get(nil); tk != tasks[freeListMax-1] || tk.state != taskQueued || tk.link != nil {
		t.Fatal("get did not reuse the most recently recycled task")
	}
	defer func() {
		if recover() == nil {
			t.Fatal("recycling a free task twice did not panic")
		}
	}()
	l.put(tasks[0])
}

func TestRunqPushNeverFails(t *testing.T) {
	var q runq
	tasks := newIDTasks()
	want := make([]int, 0, 10*runqSize)
	for range 10 * runqSize {
		tk, v := tasks.get()
		q.push(tk)
		want = append(want, v)
	}
	for i, w := range want {
		if got := tasks.done(q.pop()); got != w {
			t.Fatalf("pop %d: got task %d, want %d (FIFO)", i, got, w)
		}
	}
	if q.pop() != nil || q.len() != 0 {
		t.Fatal("queue not empty after popping everything")
	}
}

// TestRunqConcurrentSteal has one owner pushing bursts and popping while three stealers
// take halves into their own queues (mostly from the owner, sometimes from each other)
// and run what they took; every task must run exactly once.
func TestRunqConcurrentSteal(t *testing.T) {
	total := stressRunqTasks
	if testing.Short() {
		total /= 10
	}
	const stealers = 3
	runs := make([]atomic.Int32, total)
	var done atomic.Int64
	var queues [1 + stealers]runq
	run := func(free *taskFreeList, tk *task) {
		free.run(tk)
		done.Add(1)
	}
	var wg sync.WaitGroup
	for s := 1; s <= stealers; s++ {
		wg.Go(func() {
			var free taskFreeList
			mine := &queues[s]
			for k := 0; done.Load() < int64(total); k++ {
				victim := 0
				if k%4 == 3 {
					victim = k / 4 % len(queues)
				}
				if queues[victim].stealHalf(mine) == 0 {
					yieldForTest() // test code: let the owner run on 2 cores
				}
				for tk := mine.pop(); tk != nil; tk = mine.pop() {
					run(&free, tk)
				}
			}
		})
	}
	var free taskFreeList
	owner := &queues[0]
	for i, k := 0, 0; i < total; k++ {
		for range min(1+k*7919%(2*runqSize), total-i) {
			id := i
			owner.push(free.get(func() { runs[id].Add(1) }))
			i++
		}
		for range k * 104729 % (2 * runqSize) {
			if tk := owner.pop(); tk != nil {
				run(&free, tk)
			}
		}
	}
	for tk := owner.pop(); tk != nil; tk = owner.pop() {
		run(&free, tk)
	}
	wg.Wait()
	for i := range runs {
		if n := runs[i].Load(); n != 1 {
			t.Fatalf("task %d ran %d times", i, n)
		}
	}
}

// TestSteadyStateAllocatesNothing holds DESIGN memory invariant 4 for the scheduling
// primitives: once warm, a spawn and run through the stealable queue or the pinned
// deque, a steal, an inbox post and pop of a recycled task, and a timer armed and fired
// allocate nothing.
func TestSteadyStateAllocatesNothing(t *testing.T) {
	var q, thief runq
	var d taskDeque
	var free taskFreeList
	var in inbox
	in.init(func() error { return nil })
	var h timerHeap
	fn := func() {}
	tm := newTimer(func(any, int64) {}, nil)
	cases := []struct {
		name string
		f    func()
	}{
		{"runq spawn+run", func() { q.push(free.get(fn)); free.run(q.pop()) }},
		{"deque spawn+run", func() { d.pushBack(free.get(fn)); free.run(d.popFront()) }},
		{"steal", func() {
			q.push(free.get(fn))
			q.stealHalf(&thief)
			free.run(thief.pop())
		}},
		{"inbox post+pop", func() { _ = in.post(free.get(fn)); free.run(in.pop()) }},
		{"timer arm+fire", func() { h.arm(tm, 5); h.fireDue(5, 1) }},
	}
	for _, c := range cases {
		c.f() // warm up: first use grows the deque and fills the free list
		if n := testing.AllocsPerRun(1000, c.f); n != 0 {
			t.Errorf("%s: %v allocs/op, want 0", c.name, n)
		}
	}
}

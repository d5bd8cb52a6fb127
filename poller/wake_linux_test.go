package poller

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Wake from other goroutines: no lost wakeups, and what a goroutine did before Wake
// is visible after the Wait it woke.

func TestEpollWakeUnblocksWait(t *testing.T) {
	d := newTestEpoll(t, EpollConfig{})
	if err := d.Wake(); err != nil { // before any Wait: the next one returns at once
		t.Fatal(err)
	}
	if n, err := d.Wait(-1); n != 0 || err != nil {
		t.Fatalf("Wait after Wake = %d, %v", n, err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 100 { // coalesced into one eventfd write
			d.Wake()
		}
	}()
	if n, err := d.Wait(-1); n != 0 || err != nil {
		t.Fatalf("Wait = %d, %v", n, err)
	}
	wg.Wait()
}

// node is an inbox entry; its payload is a plain field, published by the push.
type node struct {
	next    *node
	payload int
}

// The loop drains a lock-free inbox after each Wait(-1); producers push, then Wake.
// A lost wakeup would leave the loop blocked with work queued: a watchdog turns that
// into a failure instead of a hang.
func TestEpollWakeStress(t *testing.T) {
	d := newTestEpoll(t, EpollConfig{})
	const producers, perProducer = 8, 2000
	var inbox atomic.Pointer[node]
	var stalled atomic.Bool
	watchdog := time.AfterFunc(testDeadline, func() { stalled.Store(true); d.Wake() })
	defer watchdog.Stop()
	var wg sync.WaitGroup
	for p := range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perProducer {
				n := &node{payload: p*perProducer + i + 1}
				for {
					n.next = inbox.Load()
					if inbox.CompareAndSwap(n.next, n) { // publishes payload
						break
					}
				}
				if err := d.Wake(); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	seen := make([]bool, producers*perProducer+1)
	got := 0
	for got < producers*perProducer {
		if _, err := d.Wait(-1); err != nil {
			t.Fatal(err)
		}
		if stalled.Load() {
			t.Fatalf("lost wakeup: loop stalled with %d of %d items", got, producers*perProducer)
		}
		for n := inbox.Swap(nil); n != nil; n = n.next {
			if seen[n.payload] {
				t.Fatalf("item %d twice", n.payload)
			}
			seen[n.payload] = true
			got++
		}
	}
	wg.Wait()
}

// Worker completions use the same wake; an unlimited Wait sees each one.
func TestEpollWorkerWakes(t *testing.T) {
	d := newTestEpoll(t, EpollConfig{Workers: 4})
	fd, _ := tempFile(t, "0123456789")
	var done atomic.Int32
	ops := make([]Op, 200)
	for i := range ops {
		ops[i] = Op{Code: OpRead, Fd: fd, Buf: make([]byte, 1), Offset: int64(i % 10),
			Done: func(*Op) { done.Add(1) }}
		submit(t, d, &ops[i])
	}
	watchdog := time.AfterFunc(testDeadline, func() { d.Wake() })
	defer watchdog.Stop()
	end := time.Now().Add(testDeadline)
	for done.Load() < int32(len(ops)) {
		if time.Now().After(end) {
			t.Fatalf("lost worker wakeup: %d of %d done", done.Load(), len(ops))
		}
		if _, err := d.Wait(-1); err != nil {
			t.Fatal(err)
		}
	}
}

func TestEpollStats(t *testing.T) {
	d := newTestEpoll(t, EpollConfig{})
	for range 3 {
		run(t, d, newRecord(Op{Code: OpNop}))
	}
	d.Wake()
	d.Wait(time.Second)
	st := d.Stats()
	if st.Submitted != 3 || st.Completions != 3 || st.Wakeups != 1 || st.Enters < 4 {
		t.Fatalf("stats %+v", st)
	}
}

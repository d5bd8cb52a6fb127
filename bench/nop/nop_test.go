//go:build linux

package main

import (
	"fmt"
	"runtime"
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if a test leaves a goroutine behind.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var goContenders = []struct {
	name    string
	newLoop func(entries, batch uint32) (loop, error)
}{
	{ours, newOurs},
	{gio, newGiouring},
}

// TestLoopsDeliverEveryCQE runs each Go contender briefly and checks, through
// the user_data checksum, that every NOP completed exactly once.
func TestLoopsDeliverEveryCQE(t *testing.T) {
	for _, c := range goContenders {
		for _, batch := range []uint32{1, 7, 32, 256} {
			w := workload{entries: 256, batch: batch, ops: 3000 * uint64(batch), warmup: 10 * uint64(batch), cpu: -1}
			s, err := runGo(c.newLoop, w)
			if err != nil {
				t.Fatalf("%s batch %d: %v", c.name, batch, err)
			}
			if s.Ops != w.ops || s.WallNs <= 0 {
				t.Fatalf("%s batch %d: sample %+v", c.name, batch, s)
			}
		}
	}
}

func TestSeqSum(t *testing.T) {
	for _, tc := range []struct{ first, n, want uint64 }{{0, 0, 0}, {0, 1, 0}, {5, 1, 5}, {0, 4, 6}, {3, 3, 12}, {1, 100, 5050}} {
		if got := seqSum(tc.first, tc.n); got != tc.want {
			t.Errorf("seqSum(%d, %d) = %d, want %d", tc.first, tc.n, got, tc.want)
		}
	}
}

// BenchmarkNop is the same loop as the nop command, for go test's
// -cpuprofile and -benchmem; b.N counts NOPs.
func BenchmarkNop(b *testing.B) {
	for _, c := range goContenders {
		for _, batch := range []uint32{1, 32, 256} {
			b.Run(fmt.Sprintf("%s/batch=%d", c.name, batch), func(b *testing.B) {
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				l, err := c.newLoop(256, batch)
				if err != nil {
					b.Fatal(err)
				}
				defer l.close()
				ops := (uint64(b.N) + uint64(batch) - 1) / uint64(batch) * uint64(batch)
				b.ReportAllocs()
				b.ResetTimer()
				if _, err := l.rounds(ops); err != nil {
					b.Fatal(err)
				}
			})
		}
	}
}

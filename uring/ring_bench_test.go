//go:build linux

package uring

import (
	"fmt"
	"testing"
)

// BenchmarkNop measures the round trip of a batch of NOPs: prepare, one
// SubmitAndWait for all of them, one PeekCQEs. It is the floor under every
// operation the runtime issues.
func BenchmarkNop(b *testing.B) {
	for _, batch := range []int{1, 32, 256} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			benchNop(b, batch, false)
		})
	}
}

// BenchmarkNopRegisteredRing is BenchmarkNop entering through a registered
// ring index (RegisterRingFd), which spares the kernel an fd lookup.
func BenchmarkNopRegisteredRing(b *testing.B) {
	for _, batch := range []int{1, 32} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			benchNop(b, batch, true)
		})
	}
}

func benchNop(b *testing.B, batch int, registered bool) {
	if registered {
		// The registration belongs to the OS thread.
		lockThread(b)
	}
	r, err := New(Config{Entries: 256})
	if err != nil {
		b.Skipf("io_uring unavailable: %v", err)
	}
	defer r.Close()
	if registered {
		if err := r.RegisterRingFd(); err != nil {
			b.Fatal(err)
		}
	}
	dst := make([]CQE, batch)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for i := range batch {
			s := r.NextSQE()
			s.PrepNop()
			s.SetUserData(uint64(i))
		}
		if _, err := r.SubmitAndWait(uint32(batch), -1); err != nil {
			b.Fatal(err)
		}
		if n := r.PeekCQEs(dst); n != batch {
			b.Fatalf("reaped %d of %d", n, batch)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/nop")
}

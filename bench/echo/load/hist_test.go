package main

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestBucketRange checks that every value falls inside its bucket's range, that
// buckets are contiguous and that their width stays within 1/64 of their value.
func TestBucketRange(t *testing.T) {
	prevEnd := uint64(0)
	for i := 0; i < bucketOf(math.MaxUint64)+1; i++ {
		low, w := bucketRange(i)
		if low != prevEnd {
			t.Fatalf("bucket %d starts at %d, previous ended at %d", i, low, prevEnd)
		}
		if bucketOf(low) != i || bucketOf(low+w-1) != i {
			t.Fatalf("bucket %d [%d, %d): values map to %d and %d", i, low, low+w, bucketOf(low), bucketOf(low+w-1))
		}
		if low >= 1<<subBits && float64(w)/float64(low) > 1.0/64 {
			t.Fatalf("bucket %d: width %d at %d", i, w, low)
		}
		prevEnd = low + w
		if prevEnd == 0 { // wrapped: the last bucket ends at 2^64
			break
		}
	}
	if bucketOf(math.MaxUint64) >= nBuckets {
		t.Fatalf("nBuckets %d too small for %d", nBuckets, bucketOf(math.MaxUint64))
	}
}

// TestQuantile compares the histogram's quantiles with exact ones on random data.
func TestQuantile(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var h hist
	vals := make([]uint64, 100000)
	for i := range vals {
		vals[i] = uint64(rng.ExpFloat64() * 50000)
		h.record(vals[i])
	}
	slices.Sort(vals)
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
		exact := float64(vals[int(math.Ceil(q*float64(len(vals))))-1])
		if got := h.quantile(q); math.Abs(got-exact) > exact/50+1 {
			t.Errorf("q%.3f: %f, exact %f", q, got, exact)
		}
	}
	if h.quantile(1) != float64(vals[len(vals)-1]) {
		t.Errorf("q1: %f, max %d", h.quantile(1), vals[len(vals)-1])
	}
}

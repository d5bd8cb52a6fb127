package main

import "math/bits"

// hist is a log-linear latency histogram in the manner of HdrHistogram: values
// below 2^subBits nanoseconds have a bucket each, and every power-of-two range
// above is split into 2^(subBits-1) equal buckets, so a bucket's width is at most
// 1/64 of its value (1.6%). Recording is one Len64, a shift and an increment.
// A hist is used only by the goroutine that owns it; merge combines them after.
type hist struct {
	counts [nBuckets]uint64
	n      uint64
	sum    uint64
	max    uint64
}

const (
	subBits  = 7
	nBuckets = (64-subBits+1)<<(subBits-1) + 1<<subBits
)

// bucketOf maps v to its bucket: v itself below 2^subBits; above, with s the
// shift that leaves v's top subBits bits, s·2^(subBits-1) + (v >> s).
func bucketOf(v uint64) int {
	if v < 1<<subBits {
		return int(v)
	}
	s := bits.Len64(v) - subBits
	return s<<(subBits-1) + int(v>>s)
}

// bucketRange returns the smallest value of bucket i and the bucket's width.
func bucketRange(i int) (low, width uint64) {
	if i < 1<<subBits {
		return uint64(i), 1
	}
	// i = s·2^(subBits-1) + m with m in [2^(subBits-1), 2^subBits).
	s := i>>(subBits-1) - 1
	m := uint64(i - s<<(subBits-1))
	return m << s, 1 << s
}

func (h *hist) record(v uint64) {
	h.counts[bucketOf(v)]++
	h.n++
	h.sum += v
	h.max = max(h.max, v)
}

func (h *hist) merge(o *hist) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.sum += o.sum
	h.max = max(h.max, o.max)
}

// quantile returns the value at quantile q (0 < q ≤ 1): the middle of the
// bucket holding the ⌈q·n⌉-th smallest value, capped at the exact maximum.
func (h *hist) quantile(q float64) float64 {
	if h.n == 0 {
		return 0
	}
	if q >= 1 {
		return float64(h.max)
	}
	rank := uint64(q*float64(h.n) + 0.999999)
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			low, w := bucketRange(i)
			return min(float64(low)+float64(w-1)/2, float64(h.max))
		}
	}
	return float64(h.max)
}

func (h *hist) mean() float64 {
	if h.n == 0 {
		return 0
	}
	return float64(h.sum) / float64(h.n)
}

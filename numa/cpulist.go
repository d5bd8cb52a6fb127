package numa

import (
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"strconv"
	"strings"
)

// MaxCPU bounds the CPU numbers ParseCPUList accepts. Linux's NR_CPUS is at most 8192
// today; the margin keeps a corrupt or hostile list from allocating without bound.
const MaxCPU = 1<<16 - 1

// CPUList is a set of CPU numbers, sorted and without duplicates. Its text form is the
// kernel's list format, "0-3,8,10-11", which is also its JSON form.
type CPUList []int

// ErrCPUList is wrapped by every error ParseCPUList returns.
var ErrCPUList = errors.New("numa: malformed CPU list")

// ParseCPUList parses the kernel's list format as sysfs and cgroup files print it:
// comma-separated CPUs and ranges, "0-3,8,10-11". It also accepts the strided form the
// kernel's bitmap_parselist takes, "0-15:2/4" (in each group of 4 starting at 0, the
// first 2), and surrounding white space. The empty string is the empty list. The result
// is sorted and deduplicated.
func ParseCPUList(s string) (CPUList, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return CPUList{}, nil
	}
	// A bitmap, not a slice of every CPU named: overlapping ranges in a long list cost
	// time proportional to the list, never memory proportional to its ranges.
	var set bitmap
	for part := range strings.SplitSeq(s, ",") {
		if err := set.addRange(strings.TrimSpace(part)); err != nil {
			return nil, fmt.Errorf("%w %q: %v", ErrCPUList, s, err)
		}
	}
	return set.list(), nil
}

// bitmap is a set of CPUs, one bit each, grown as needed.
type bitmap []uint64

// setRange adds CPUs lo to hi inclusive, a word at a time.
func (b *bitmap) setRange(lo, hi int) {
	if need := hi/64 + 1; len(*b) < need {
		*b = append(*b, make(bitmap, need-len(*b))...)
	}
	for c := lo; c <= hi; {
		w, bit := c/64, c%64
		n := min(64-bit, hi-c+1)
		mask := ^uint64(0)
		if n < 64 {
			mask = (1<<n - 1) << bit
		}
		(*b)[w] |= mask
		c += n
	}
}

// list returns the set's CPUs in ascending order.
func (b bitmap) list() CPUList {
	l := CPUList{}
	for w, word := range b {
		for ; word != 0; word &= word - 1 {
			l = append(l, w*64+bits.TrailingZeros64(word))
		}
	}
	return l
}

// addRange adds the CPUs of one list element: "N", "A-B" or "A-B:used/group".
func (b *bitmap) addRange(part string) error {
	rng, stride, strided := strings.Cut(part, ":")
	lo, hi, isRange := strings.Cut(rng, "-")
	first, err := cpuNumber(lo)
	if err != nil {
		return err
	}
	last := first
	if isRange {
		if last, err = cpuNumber(hi); err != nil {
			return err
		}
		if last < first {
			return fmt.Errorf("range %q runs backwards", rng)
		}
	}
	if !strided {
		b.setRange(first, last)
		return nil
	}
	if !isRange {
		return fmt.Errorf("stride %q without a range", part)
	}
	u, g, ok := strings.Cut(stride, "/")
	if !ok {
		return fmt.Errorf("stride %q lacks a group size", stride)
	}
	used, err := cpuNumber(u)
	if err != nil {
		return err
	}
	group, err := cpuNumber(g)
	if err != nil {
		return err
	}
	if used == 0 || group == 0 || used > group {
		return fmt.Errorf("stride %q is not used/group with 0 < used <= group", stride)
	}
	for c := first; c <= last; c += group {
		b.setRange(c, min(c+used-1, last))
	}
	return nil
}

// cpuNumber parses one decimal CPU number in [0, MaxCPU].
func cpuNumber(s string) (int, error) {
	if s == "" || len(s) > 6 || strings.TrimLeft(s, "0123456789") != "" {
		return 0, fmt.Errorf("%q is not a CPU number", s)
	}
	n, err := strconv.Atoi(s)
	if err != nil || n > MaxCPU {
		return 0, fmt.Errorf("CPU %q out of range [0, %d]", s, MaxCPU)
	}
	return n, nil
}

// String returns l in the kernel's list format, "0-3,8,10-11"; the empty list is "".
// l must be sorted without duplicates, as every CPUList this package returns is.
func (l CPUList) String() string {
	var b strings.Builder
	for i := 0; i < len(l); {
		j := i
		for j+1 < len(l) && l[j+1] == l[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(l[i]))
		if j > i {
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(l[j]))
		}
		i = j + 1
	}
	return b.String()
}

// MarshalText returns l's list format, so that JSON carries "0-3,8" rather than every
// CPU number.
func (l CPUList) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// UnmarshalText parses the list format into *l.
func (l *CPUList) UnmarshalText(b []byte) error {
	v, err := ParseCPUList(string(b))
	if err != nil {
		return err
	}
	*l = v
	return nil
}

// Contains reports whether cpu is in l.
func (l CPUList) Contains(cpu int) bool {
	_, ok := slices.BinarySearch(l, cpu)
	return ok
}

// Intersect returns the CPUs in both l and m.
func (l CPUList) Intersect(m CPUList) CPUList {
	out := CPUList{}
	for _, c := range l {
		if m.Contains(c) {
			out = append(out, c)
		}
	}
	return out
}

// Without returns the CPUs of l that are not in m.
func (l CPUList) Without(m CPUList) CPUList {
	out := CPUList{}
	for _, c := range l {
		if !m.Contains(c) {
			out = append(out, c)
		}
	}
	return out
}

// NewCPUList returns the given CPUs as a CPUList: sorted, without duplicates. Negative
// numbers are dropped.
func NewCPUList(cpus ...int) CPUList {
	l := make(CPUList, 0, len(cpus))
	for _, c := range cpus {
		if c >= 0 {
			l = append(l, c)
		}
	}
	slices.Sort(l)
	return slices.Compact(l)
}

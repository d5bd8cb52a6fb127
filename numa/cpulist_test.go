package numa

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestParseCPUList(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []int
	}{
		{"", []int{}},
		{"\n", []int{}},
		{"0", []int{0}},
		{"0-3", []int{0, 1, 2, 3}},
		{"0-3,8,10-11\n", []int{0, 1, 2, 3, 8, 10, 11}},
		{"8,0-1,1", []int{0, 1, 8}},    // unsorted, overlapping: normalised
		{" 2 , 4-5 ", []int{2, 4, 5}},  // spaces around elements
		{"0-7:2/4", []int{0, 1, 4, 5}}, // bitmap_parselist strides
		{"0-15:1/8", []int{0, 8}},      // one per group
		{"3-3", []int{3}},              // degenerate range
		{"0-7:4/4", []int{0, 1, 2, 3, 4, 5, 6, 7}},
		{"65535", []int{MaxCPU}},
	} {
		got, err := ParseCPUList(c.in)
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("ParseCPUList(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
	for _, in := range []string{
		"a", "-1", "1-", "-", "3-1", "1,,2", ",", "1-2-3", "0x1", "1 2", "65536",
		"0-3:0/4", "0-3:5/4", "0-3:2", "5:1/2", "0-3:1/0", "+1", "1e3", "١",
	} {
		if got, err := ParseCPUList(in); err == nil || !errors.Is(err, ErrCPUList) {
			t.Errorf("ParseCPUList(%q) = %v, %v; want an ErrCPUList", in, got, err)
		}
	}
}

// TestParseCPUListLongOverlapping parses a long list of full ranges: the bitmap keeps
// memory bounded by MaxCPU, not by the sum of the ranges.
func TestParseCPUListLongOverlapping(t *testing.T) {
	l, err := ParseCPUList(strings.Repeat("0-65535,", 2000) + "7")
	if err != nil || len(l) != MaxCPU+1 || l[0] != 0 || l[MaxCPU] != MaxCPU {
		t.Fatalf("%d CPUs, %v", len(l), err)
	}
}

func TestCPUListString(t *testing.T) {
	for _, c := range []struct {
		in   CPUList
		want string
	}{{nil, ""}, {CPUList{0}, "0"}, {CPUList{0, 1, 2, 3}, "0-3"}, {CPUList{0, 2, 3, 4, 7}, "0,2-4,7"}, {CPUList{1, 3}, "1,3"}} {
		if got := c.in.String(); got != c.want {
			t.Errorf("%v.String() = %q, want %q", []int(c.in), got, c.want)
		}
	}
}

func TestCPUListSetOps(t *testing.T) {
	a, b := NewCPUList(5, 1, 3, 3, -1, 2), NewCPUList(2, 3, 9)
	if !slices.Equal(a, CPUList{1, 2, 3, 5}) {
		t.Fatalf("NewCPUList = %v", a)
	}
	if got := a.Intersect(b); !slices.Equal(got, CPUList{2, 3}) {
		t.Errorf("Intersect = %v", got)
	}
	if got := a.Without(b); !slices.Equal(got, CPUList{1, 5}) {
		t.Errorf("Without = %v", got)
	}
	if !a.Contains(5) || a.Contains(4) {
		t.Error("Contains")
	}
}

func TestCPUListJSON(t *testing.T) {
	type doc struct{ CPUs CPUList }
	out, err := json.Marshal(doc{NewCPUList(0, 1, 2, 8)})
	if err != nil || string(out) != `{"CPUs":"0-2,8"}` {
		t.Fatalf("Marshal = %s, %v", out, err)
	}
	var d doc
	if err := json.Unmarshal(out, &d); err != nil || !slices.Equal(d.CPUs, CPUList{0, 1, 2, 8}) {
		t.Fatalf("Unmarshal = %v, %v", d.CPUs, err)
	}
	if err := json.Unmarshal([]byte(`{"CPUs":"1-"}`), &d); err == nil {
		t.Fatal("Unmarshal accepted a bad list")
	}
}

func TestParseDistances(t *testing.T) {
	got, err := ParseDistances("10 21 31 21\n")
	if err != nil || !slices.Equal(got, []int{10, 21, 31, 21}) {
		t.Fatalf("ParseDistances = %v, %v", got, err)
	}
	if got, err := ParseDistances(""); err != nil || len(got) != 0 {
		t.Fatalf("empty row = %v, %v", got, err)
	}
	for _, in := range []string{"10 x", "-1", "256", "10,21", "1000", "+5"} {
		if _, err := ParseDistances(in); !errors.Is(err, ErrDistances) {
			t.Errorf("ParseDistances(%q) = %v, want ErrDistances", in, err)
		}
	}
}

// refParse is the reference model of ParseCPUList: a map filled one CPU at a time, for
// lists whose numbers stay small. ok is false for what it does not model.
func refParse(s string) (l []int, ok bool) {
	set := map[int]bool{}
	for part := range strings.SplitSeq(strings.TrimSpace(s), ",") {
		rng, stride, strided := strings.Cut(strings.TrimSpace(part), ":")
		lo, hi, isRange := strings.Cut(rng, "-")
		a, err1 := cpuNumber(lo)
		b, err2 := a, error(nil)
		if isRange {
			b, err2 = cpuNumber(hi)
		}
		used, group := 1, 1
		if strided {
			u, g, _ := strings.Cut(stride, "/")
			used, _ = cpuNumber(u)
			group, _ = cpuNumber(g)
		}
		if err1 != nil || err2 != nil || b > 4096 || group == 0 {
			return nil, false
		}
		for c := a; c <= b; c++ {
			if (c-a)%group < used {
				set[c] = true
			}
		}
	}
	for c := range set {
		l = append(l, c)
	}
	slices.Sort(l)
	return l, true
}

// FuzzParseCPUList checks that the list parser never panics, that what it accepts is a
// sorted set within [0, MaxCPU] equal to the reference model's, and that String writes
// a list that parses back to the same set (the canonical form is a fixed point).
func FuzzParseCPUList(f *testing.F) {
	for _, s := range []string{"", "0", "0-3,8,10-11", "0-7:2/4", "3-1", "1,,2", "65535", "0-65535:1/4096", " 1 ,2\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := ParseCPUList(s)
		if err != nil {
			if !errors.Is(err, ErrCPUList) {
				t.Fatalf("error %v does not wrap ErrCPUList", err)
			}
			return
		}
		for i, c := range l {
			if c < 0 || c > MaxCPU || i > 0 && l[i-1] >= c {
				t.Fatalf("ParseCPUList(%q) = %v: not a sorted set in range", s, l)
			}
		}
		if ref, ok := refParse(s); ok && strings.TrimSpace(s) != "" && !slices.Equal(ref, l) {
			t.Fatalf("ParseCPUList(%q) = %v, the reference model says %v", s, l, ref)
		}
		text := l.String()
		back, err := ParseCPUList(text)
		if err != nil || !slices.Equal(back, l) || back.String() != text {
			t.Fatalf("round trip of %q: %q parses to %v, %v", s, text, back, err)
		}
		if strings.ContainsAny(text, " :/\n") {
			t.Fatalf("String %q is not canonical", text)
		}
	})
}

// FuzzParseDistances checks the distance parser: no panics, values within the SLIT's
// byte, and the row survives being printed and parsed again.
func FuzzParseDistances(f *testing.F) {
	for _, s := range []string{"10", "10 21\n", "10 12 32 32", "255 0", "256", "x", "  "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDistances(s)
		if err != nil {
			if !errors.Is(err, ErrDistances) {
				t.Fatalf("error %v does not wrap ErrDistances", err)
			}
			return
		}
		for _, v := range d {
			if v < 0 || v > MaxDistance {
				t.Fatalf("ParseDistances(%q) = %v: out of range", s, d)
			}
		}
		if back, err := ParseDistances(distances(d)); len(d) > 0 && (err != nil || !slices.Equal(back, d)) {
			t.Fatalf("round trip of %v: %v, %v", d, back, err)
		}
	})
}

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const sample = `## Echo — 2026-12-06

| scenario | contender | kmsg/s | server CPU ns/msg |
|---|---|---:|---:|
| 1000x64p1 | gonet | 87.5 (48.6–88.0) | 11139 (11000–12827) |
| 1000x64p1 | znetconn-uring | 79.6 (30.9–80.0) | 12143 |
| 1000x64p1 | broken | n/a | – |

#### cache, queue depth 1

| contender | IOPS (k) |
|---|---:|
| os | 318.4 (300.1–320.0) |
`

func TestParseTables(t *testing.T) {
	ts := parseTables(sample)
	if len(ts) != 2 {
		t.Fatalf("%d tables, want 2", len(ts))
	}
	if ts[0].heading != "Echo — 2026-12-06" || len(ts[0].rows) != 3 || ts[0].header[3] != "server CPU ns/msg" {
		t.Fatalf("first table: %+v", ts[0])
	}
	if ts[1].heading != "cache, queue depth 1" || ts[1].rows[0][0] != "os" {
		t.Fatalf("second table: %+v", ts[1])
	}
}

func TestSpread(t *testing.T) {
	for _, c := range []struct {
		in        string
		m, lo, hi float64
		ok        bool
	}{
		{"87.5 (48.6–88.0)", 87.5, 48.6, 88.0, true},
		{"12143", 12143, 12143, 12143, true},
		{"**0.62** (0.57–0.84)", 0.62, 0.57, 0.84, true},
		{"n/a", 0, 0, 0, false},
		{"–", 0, 0, 0, false},
	} {
		m, lo, hi, ok := spread(c.in)
		if ok != c.ok || (ok && (m != c.m || lo != c.lo || hi != c.hi)) {
			t.Errorf("spread(%q) = %v %v %v %v, want %v %v %v %v", c.in, m, lo, hi, ok, c.m, c.lo, c.hi, c.ok)
		}
	}
}

// TestDraw draws the bars of a column into a PNG file and checks what it chose.
func TestDraw(t *testing.T) {
	ts := parseTables(sample)
	c := chart{title: "t", value: "kmsg/s", labels: []string{"scenario", "contender"}}
	bs := c.bars(ts)
	if len(bs) != 2 || bs[0].label != "1000x64p1 · gonet" || bs[1].lo != 30.9 {
		t.Fatalf("bars: %+v", bs)
	}
	h := chart{title: "t", value: "IOPS (k)", labels: []string{"contender"}, heading: true}
	if hb := h.bars(ts); len(hb) != 1 || hb[0].label != "cache, queue depth 1 · os" {
		t.Fatalf("heading bars: %+v", hb)
	}
	path := filepath.Join(t.TempDir(), "c.png")
	if err := c.draw(ts, path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("not a PNG: % x", b[:8])
	}
	if err := (chart{value: "missing"}).draw(ts, path); err == nil {
		t.Fatal("a chart of a missing column drew")
	}
}

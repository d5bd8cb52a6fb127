//go:build linux

package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestContenders runs every in-process contender briefly on a small file: each makes
// progress without errors, and the write scenario completes.
func TestContenders(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "data")
	if err := ensureFile(file, 8<<20); err != nil {
		t.Fatal(err)
	}
	for _, name := range allReaders {
		if strings.HasPrefix(name, "fio") {
			continue
		}
		for _, mode := range []string{"cache", "direct"} {
			s, err := runReader(name, mode, file, 8<<20, 4, 10*time.Millisecond, 50*time.Millisecond)
			if err != nil || s.Ops == 0 {
				t.Errorf("%s %s: %d ops, %v", name, mode, s.Ops, err)
			}
		}
	}
	for _, name := range allWriters {
		if s, err := runWriter(name, dir, 4, 2); err != nil || s.MiBps <= 0 {
			t.Errorf("write %s: %+v %v", name, s, err)
		}
	}
}

// TestWritersContent checks that every write contender leaves the same bytes in the
// file, in the same places, with runs whose size is not a multiple of the fsync
// interval (a last, short segment) and, for write-behind, with fewer and with more
// writes in flight than a segment holds.
func TestWritersContent(t *testing.T) {
	dir := t.TempDir()
	defer func(d int) { wbDepth = d }(wbDepth)
	for _, depth := range []int{1, 4, 16} {
		wbDepth = depth
		for _, name := range allWriters {
			if depth != 4 && !strings.HasSuffix(name, "-wb") {
				continue
			}
			path := filepath.Join(dir, fmt.Sprintf("%s-%d", name, depth))
			if _, err := writeFile(name, path, 11, 4); err != nil {
				t.Errorf("write %s (depth %d): %v", name, depth, err)
				continue
			}
			if err := checkWritten(path, 11); err != nil {
				t.Errorf("write %s (depth %d): %v", name, depth, err)
			}
		}
	}
}

func TestSummarize(t *testing.T) {
	if s := summarize([]float64{3, 1, 2}); s != (stat{2, 1, 3}) {
		t.Errorf("odd count: %+v", s)
	}
	if s := summarize([]float64{4, 1, 2, 3}); s != (stat{2.5, 1, 4}) {
		t.Errorf("even count: %+v", s)
	}
}

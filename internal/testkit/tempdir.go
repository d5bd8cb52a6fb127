package testkit

import (
	"io/fs"
	"os"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"testing"
)

// TempDir returns a new directory for the test, removed when it ends: tb.TempDir,
// except on Windows, where Wine cannot remove a non-empty directory the way
// os.RemoveAll (and so tb.TempDir's cleanup) asks it to, while removing each file and
// then each emptied directory works (../shared/PLATFORMS.md). There the cleanup does
// that, deepest first, and fails the test if anything is left.
func TempDir(tb testing.TB) string {
	tb.Helper()
	if goruntime.GOOS != "windows" {
		return tb.TempDir()
	}
	dir, err := os.MkdirTemp("", "zokio-test-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := removeTree(dir); err != nil {
			tb.Errorf("removing the test's directory: %v", err)
		}
	})
	return dir
}

// removeTree removes dir and everything under it with one os.Remove per entry,
// children before their parents.
func removeTree(dir string) error {
	var paths []string
	err := filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		paths = append(paths, p)
		return nil
	})
	if err != nil {
		return err
	}
	// WalkDir visits a directory before its entries: the reverse removes them first.
	for _, p := range slices.Backward(paths) {
		if err := os.Remove(p); err != nil {
			return err
		}
	}
	return nil
}

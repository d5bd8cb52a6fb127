package zfile

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestWriteBehind writes 37 chunks (not a multiple of the fsync interval) with 1, 3
// and 8 writes in flight on both drivers and reads the file back; bad arguments are
// refused, and a file not open for writing fails with its error and nothing in flight.
func TestWriteBehind(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, e *env) {
		const chunks, size = 37, 4096
		for _, inFlight := range []int{1, 3, 8} {
			path := filepath.Join(e.dir, "log")
			f, err := Create(ctxT(t), e.rt, path)
			if err != nil {
				t.Fatal(err)
			}
			fills := 0
			err = WriteBehind(ctxT(t), f, chunks, size, inFlight, 5, func(i int, buf []byte) {
				fills++
				for j := range buf {
					buf[j] = byte(i*31 + j)
				}
			})
			if err != nil || fills != chunks {
				t.Fatalf("inFlight %d: %v after %d fills", inFlight, err, fills)
			}
			f.Close()
			got, err := os.ReadFile(path)
			if err != nil || len(got) != chunks*size {
				t.Fatalf("inFlight %d: read back %d bytes, %v", inFlight, len(got), err)
			}
			for i := range chunks {
				want := make([]byte, size)
				for j := range want {
					want[j] = byte(i*31 + j)
				}
				if !bytes.Equal(got[i*size:(i+1)*size], want) {
					t.Fatalf("inFlight %d: chunk %d differs", inFlight, i)
				}
			}
		}

		f, err := Open(ctxT(t), e.rt, filepath.Join(e.dir, "log"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		noop := func(int, []byte) {}
		for _, bad := range [][4]int{{-1, size, 1, 1}, {1, 0, 1, 1}, {1, size, 0, 1}, {1, size, 1, 0}} {
			if err := WriteBehind(ctxT(t), f, bad[0], bad[1], bad[2], bad[3], noop); err == nil {
				t.Errorf("WriteBehind(%v) accepted", bad)
			}
		}
		// As os.File.Write on a file opened read-only: EBADF (Windows: access denied),
		// in an *os.PathError.
		var pe *os.PathError
		if err := WriteBehind(ctxT(t), f, 4, size, 2, 2, noop); !errors.Is(err, errReadOnlyWrite) || !errors.As(err, &pe) {
			t.Fatalf("write-behind to a read-only file: %v, want %v in an *os.PathError", err, errReadOnlyWrite)
		}
	})
}

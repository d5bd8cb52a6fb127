package zfile

import (
	"errors"
	"os"
	"testing"

	"github.com/zokio/zokio/internal/testkit"
)

// TestRuntimeClosedFastPath: once the runtime has closed, reads fail with an
// *os.PathError matching os.ErrClosed as writes do, also where the data sits in the
// page cache and the read would not need a loop (issue 15, item 9: ReadAt used to
// succeed there while WriteAt failed).
func TestRuntimeClosedFastPath(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, e *env) {
		name := e.path("data")
		want := writeFile(t, name, 4096)
		fds := testkit.FDCount(t)
		fast := mustOpen(t, e, name, os.O_RDWR, OpenOptions{})
		slow := mustOpen(t, e, name, os.O_RDWR, OpenOptions{NoFastPath: true})
		buf := make([]byte, 100)
		for _, f := range []*File{fast, slow} {
			if n, err := f.ReadAt(buf, 10); n != len(buf) || err != nil || !equal(buf, want[10:110]) {
				t.Fatalf("ReadAt before Close: %d %v", n, err)
			}
		}
		if err := e.rt.Close(ctxT(t)); err != nil {
			t.Fatal(err)
		}
		for fi, f := range []*File{fast, slow} {
			calls := map[string]func() (int, error){
				"ReadAt":        func() (int, error) { return f.ReadAt(buf, 10) },
				"ReadAtContext": func() (int, error) { return f.ReadAtContext(ctxT(t), buf, 10) },
				"Read":          func() (int, error) { return f.Read(buf) },
				"ReadvAt":       func() (int, error) { return f.ReadvAt([][]byte{buf[:10], buf[10:]}, 0) },
				"WriteAt":       func() (int, error) { return f.WriteAt(buf, 10) },
				"Write":         func() (int, error) { return f.Write(buf) },
			}
			for name, call := range calls {
				n, err := call()
				var pe *os.PathError
				if n != 0 || !errors.Is(err, os.ErrClosed) || !errors.As(err, &pe) {
					t.Errorf("file %d (NoFastPath %v): %s after the runtime closed: %d, %v; want 0 and a PathError matching os.ErrClosed",
						fi, f == slow, name, n, err)
				}
			}
			if err := f.Close(); err != nil {
				t.Errorf("Close after the runtime closed: %v", err)
			}
		}
		if now := testkit.FDCount(t); now > fds {
			t.Errorf("descriptors not released: %d before, %d after", fds, now)
		}
	})
}

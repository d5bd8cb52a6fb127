//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package zfile

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"
)

// TestWriteContext: WriteContext and WriteAtContext write like Write and WriteAt under a
// live context, and a write that cannot finish (a full FIFO nobody reads) fails with
// the context's error, as a *os.PathError for "write", once its deadline passes.
func TestWriteContext(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, e *env) {
		name := e.path("w")
		f := mustOpen(t, e, name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, OpenOptions{})
		defer f.Close()
		if n, err := f.WriteContext(ctxT(t), []byte("hello")); n != 5 || err != nil {
			t.Fatalf("WriteContext: %d, %v", n, err)
		}
		if n, err := f.WriteAtContext(ctxT(t), []byte("HE"), 0); n != 2 || err != nil {
			t.Fatalf("WriteAtContext: %d, %v", n, err)
		}
		if b, err := os.ReadFile(name); err != nil || string(b) != "HEllo" {
			t.Fatalf("file holds %q, %v; want HEllo", b, err)
		}

		p, _ := fifo(t, e)
		defer p.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		big := make([]byte, 4<<20) // far more than a pipe holds
		n, err := p.WriteContext(ctx, big)
		var pe *os.PathError
		if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &pe) || pe.Op != "write" || n >= len(big) {
			t.Fatalf("write to a full FIFO past its deadline: %d, %v", n, err)
		}
	})
}

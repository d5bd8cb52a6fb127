package runtime

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/zokio/zokio/poller"
)

// DumpInFlight writes every loop's in-flight op table to w (see poller.DumpInFlight),
// for diagnostics: a test or a server that finds itself waiting too long prints what
// the kernel (or the epoll driver) still holds, and where. Each table is read on its
// loop, so a loop that does not answer before ctx ends — stuck in a task, or blocked in
// the kernel without a wakeup — is reported as such instead. It returns the number of
// ops listed.
func (rt *Runtime) DumpInFlight(ctx context.Context, w io.Writer) int {
	type answer struct {
		buf bytes.Buffer
		n   int
		err error
	}
	// Every loop is asked at once, so that one stuck loop cannot use up ctx for the
	// others.
	answers := make([]answer, len(rt.loops))
	var wg sync.WaitGroup
	for i, l := range rt.loops {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := &answers[i]
			var buf bytes.Buffer
			n := 0
			if err := l.Call(ctx, func() { n = poller.DumpInFlight(&buf, l.d) }); err != nil {
				a.err = err // fn may still run later: its buffer is never read
				return
			}
			a.buf, a.n = buf, n
		}()
	}
	wg.Wait()
	total := 0
	for i, l := range rt.loops {
		a := &answers[i]
		if a.err != nil {
			fmt.Fprintf(w, "loop %d: no answer (%v)\n", l.id, a.err)
			continue
		}
		fmt.Fprintf(w, "loop %d: %s", l.id, a.buf.Bytes())
		total += a.n
	}
	return total
}

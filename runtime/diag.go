package runtime

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/zokio/zokio/poller"
)

// DumpInFlight writes every loop's in-flight op table to w (see poller.DumpInFlight),
// for diagnostics: a test or a server that finds itself waiting too long prints what
// the kernel (or the epoll driver) still holds, and where. Each table is read on its
// loop, so a loop that does not answer before ctx ends — stuck in a task, or blocked in
// the kernel without a wakeup — is reported as such instead. It returns the number of
// ops listed.
func (rt *Runtime) DumpInFlight(ctx context.Context, w io.Writer) int {
	total := 0
	for _, l := range rt.loops {
		var buf bytes.Buffer
		n := 0
		err := l.Call(ctx, func() { n = poller.DumpInFlight(&buf, l.d) })
		if err != nil {
			fmt.Fprintf(w, "loop %d: no answer (%v)\n", l.id, err)
			continue
		}
		fmt.Fprintf(w, "loop %d: %s", l.id, buf.Bytes())
		total += n
	}
	return total
}

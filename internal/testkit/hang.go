package testkit

import (
	"context"
	"fmt"
	"io"
	goruntime "runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// Dumper is what a runtime offers: runtime.(*Runtime).DumpInFlight.
type Dumper interface {
	DumpInFlight(ctx context.Context, w io.Writer) int
}

// Registry holds the dumpers of the tests that are running. The zero value is ready.
type Registry struct{ m sync.Map }

// Track registers d under t's name until t ends.
func (r *Registry) Track(t testing.TB, d Dumper) {
	name := t.Name()
	r.m.Store(name, d)
	t.Cleanup(func() { r.m.Delete(name) })
}

// Report returns every tracked dumper's table (each given a second to answer), then
// every goroutine's stack.
func (r *Registry) Report() string {
	var b strings.Builder
	r.m.Range(func(name, d any) bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		fmt.Fprintf(&b, "runtime of %s:\n", name)
		d.(Dumper).DumpInFlight(ctx, &b)
		return true
	})
	buf := make([]byte, 1<<20)
	buf = buf[:goruntime.Stack(buf, true)]
	b.WriteString("goroutines:\n")
	b.Write(buf)
	return b.String()
}

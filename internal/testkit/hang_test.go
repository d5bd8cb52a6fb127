package testkit

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type fake struct{ ops int }

func (f fake) DumpInFlight(_ context.Context, w io.Writer) int {
	fmt.Fprintf(w, "in-flight table: %d op(s)\n", f.ops)
	return f.ops
}

func TestReport(t *testing.T) {
	var r Registry
	t.Run("tracked", func(t *testing.T) {
		r.Track(t, fake{ops: 3})
		rep := r.Report()
		for _, want := range []string{"runtime of TestReport/tracked:", "in-flight table: 3 op(s)", "goroutines:", "TestReport"} {
			if !strings.Contains(rep, want) {
				t.Fatalf("report lacks %q:\n%s", want, rep)
			}
		}
	})
	if rep := r.Report(); strings.Contains(rep, "runtime of") {
		t.Fatalf("a finished test is still tracked:\n%s", rep)
	}
}

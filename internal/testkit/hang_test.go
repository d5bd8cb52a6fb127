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

func TestOracle(t *testing.T) {
	const total = 200_000
	s := NewStream(7, 300)
	data := make([]byte, total)
	s.Read(data[:1000])
	s.Read(data[1000:])
	c := NewChecker(7)
	for off := 0; off < total; {
		n := min(1+off%977, total-off)
		if _, err := c.Write(data[off : off+n]); err != nil {
			t.Fatal(err)
		}
		off += n
	}
	if err := c.Done(total); err != nil {
		t.Fatal(err)
	}
	if c.Verified() < total-300-10 {
		t.Fatalf("verified %d of %d", c.Verified(), total)
	}
	// Each kind of damage is caught.
	for name, bad := range map[string]func([]byte) []byte{
		"lost":      func(b []byte) []byte { return append(b[:100:100], b[5000:]...) },
		"duplicate": func(b []byte) []byte { return append(b[:5000:5000], b[2000:]...) },
		"corrupt":   func(b []byte) []byte { b = append([]byte(nil), b...); b[4321] ^= 1; return b },
		"short":     func(b []byte) []byte { return b[:len(b)-1] },
	} {
		c := NewChecker(7)
		d := bad(data)
		_, err := c.Write(d)
		if err == nil {
			err = c.Done(total)
		}
		if err == nil {
			t.Errorf("%s stream passed the oracle", name)
		}
	}
}

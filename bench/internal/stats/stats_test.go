package stats

import (
	"math"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestOf(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want Spread
	}{
		{[]float64{3, 1, 2}, Spread{2, 1, 3}},
		{[]float64{4, 1, 3, 2}, Spread{2.5, 1, 4}},
		{[]float64{7}, Spread{7, 7, 7}},
	} {
		if got := Of(c.in); got != c.want {
			t.Errorf("Of(%v) = %+v, want %+v", c.in, got, c.want)
		}
	}
	if s := Of(nil); !math.IsNaN(s.Median) {
		t.Errorf("Of(nil) = %+v, want NaNs", s)
	}
	if got := (Spread{2, 1, 3}).Format(1, "%.1f"); got != "2.0 (1.0–3.0)" {
		t.Errorf("Format = %q", got)
	}
}

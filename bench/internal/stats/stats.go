// Package stats holds what every benchmark program in bench/ reports: the median and
// range of repeated measurements.
package stats

import (
	"fmt"
	"math"
	"slices"
)

// Spread is the median, min and max of a set of values.
type Spread struct {
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
}

// Of returns the spread of v (NaNs when v is empty). The median of an even count is
// the mean of the middle two.
func Of(v []float64) Spread {
	if len(v) == 0 {
		return Spread{math.NaN(), math.NaN(), math.NaN()}
	}
	s := slices.Clone(v)
	slices.Sort(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return Spread{Median: m, Min: s[0], Max: s[len(s)-1]}
}

// Format prints the spread as "median (min–max)", each value divided by scale and
// formatted with verb f (such as "%.1f").
func (s Spread) Format(scale float64, f string) string {
	return fmt.Sprintf(f+" ("+f+"–"+f+")", s.Median/scale, s.Min/scale, s.Max/scale)
}

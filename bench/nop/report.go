package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/zokio/zokio/bench/internal/stats"
)

// The contenders' names, as they appear in tables and JSON.
const (
	ours  = "ours"
	gio   = "giouring"
	cLoop = "c-liburing"
)

// sample is one contender's measurement in one repetition.
type sample struct {
	Contender string `json:"contender"`
	Batch     uint32 `json:"batch"`
	Rep       int    `json:"rep"`
	Position  int    `json:"position"` // 0-based place in the rep's interleaved order
	Ops       uint64 `json:"ops"`
	WallNs    int64  `json:"wall_ns"`
	UserNs    int64  `json:"user_ns"`
	SysNs     int64  `json:"sys_ns"`
	VCSw      int64  `json:"vcsw"`    // voluntary context switches of the thread (it slept)
	IVCSw     int64  `json:"ivcsw"`   // involuntary ones (preempted)
	Mallocs   int64  `json:"mallocs"` // -1: not measured (the C contender)
}

func (s sample) opsPerSec() float64   { return float64(s.Ops) / (float64(s.WallNs) / 1e9) }
func (s sample) cpuNsPerOp() float64  { return float64(s.UserNs+s.SysNs) / float64(s.Ops) }
func (s sample) allocsPerOp() float64 { return float64(s.Mallocs) / float64(s.Ops) }

// spread is the median, min and max of repeated measurements.
type spread = stats.Spread

func spreadOf(v []float64) spread { return stats.Of(v) }

// summary condenses one contender's samples at one batch size.
type summary struct {
	Contender   string  `json:"contender"`
	Batch       uint32  `json:"batch"`
	OpsPerSec   spread  `json:"ops_per_sec"`
	CPUNsPerOp  spread  `json:"cpu_ns_per_op"`
	AllocsPerOp *spread `json:"allocs_per_op,omitempty"`
	// Preempted is the involuntary context switches per run: how often
	// something else took the contender's CPU, the main source of noise.
	Preempted spread `json:"preempted"`
}

// ratio compares contender A with contender B at one batch size: the
// median and range of the per-repetition ratios, each taken between samples
// of the same repetition, so slow drift of the machine cancels.
type ratio struct {
	Batch      uint32 `json:"batch"`
	A          string `json:"a"`
	B          string `json:"b"`
	Throughput spread `json:"throughput"` // A's ops/s ÷ B's; > 1 favours A
	CPUPerOp   spread `json:"cpu_per_op"` // A's CPU/op ÷ B's; < 1 favours A
}

func summarize(samples []sample, contenders []string, batches []uint32) []summary {
	var out []summary
	for _, b := range batches {
		for _, c := range contenders {
			var tput, cpu, allocs, pre []float64
			for _, s := range samples {
				if s.Batch != b || s.Contender != c {
					continue
				}
				tput = append(tput, s.opsPerSec())
				cpu = append(cpu, s.cpuNsPerOp())
				pre = append(pre, float64(s.IVCSw))
				if s.Mallocs >= 0 {
					allocs = append(allocs, s.allocsPerOp())
				}
			}
			sum := summary{Contender: c, Batch: b, OpsPerSec: spreadOf(tput), CPUNsPerOp: spreadOf(cpu), Preempted: spreadOf(pre)}
			if len(allocs) > 0 {
				a := spreadOf(allocs)
				sum.AllocsPerOp = &a
			}
			out = append(out, sum)
		}
	}
	return out
}

// ratios compares the contenders of each pair at every batch size.
func ratios(samples []sample, pairs [][2]string, batches []uint32) []ratio {
	type key struct {
		c     string
		batch uint32
		rep   int
	}
	by := make(map[key]sample, len(samples))
	for _, s := range samples {
		by[key{s.Contender, s.Batch, s.Rep}] = s
	}
	var out []ratio
	for _, b := range batches {
		for _, p := range pairs {
			var tput, cpu []float64
			for _, s := range samples {
				if s.Contender != p[0] || s.Batch != b {
					continue
				}
				t, ok := by[key{p[1], b, s.Rep}]
				if !ok {
					continue
				}
				tput = append(tput, s.opsPerSec()/t.opsPerSec())
				cpu = append(cpu, s.cpuNsPerOp()/t.cpuNsPerOp())
			}
			if len(tput) > 0 {
				out = append(out, ratio{Batch: b, A: p[0], B: p[1], Throughput: spreadOf(tput), CPUPerOp: spreadOf(cpu)})
			}
		}
	}
	return out
}

// writeTables prints the results as markdown.
func writeTables(w io.Writer, sums []summary, rats []ratio, reps int) {
	fmt.Fprintf(w, "Medians of %d repetitions, (min–max) across them.\n\n", reps)
	fmt.Fprintln(w, "| batch | contender | Mops/s | CPU ns/op | allocs/op | preempted/run |")
	fmt.Fprintln(w, "|---:|---|---:|---:|---:|---:|")
	for _, s := range sums {
		allocs := "n/a"
		if s.AllocsPerOp != nil {
			allocs = fmt.Sprintf("%.3g (%.3g–%.3g)", s.AllocsPerOp.Median, s.AllocsPerOp.Min, s.AllocsPerOp.Max)
		}
		fmt.Fprintf(w, "| %d | %s | %.2f (%.2f–%.2f) | %.1f (%.1f–%.1f) | %s | %.0f (%.0f–%.0f) |\n", s.Batch, s.Contender,
			s.OpsPerSec.Median/1e6, s.OpsPerSec.Min/1e6, s.OpsPerSec.Max/1e6,
			s.CPUNsPerOp.Median, s.CPUNsPerOp.Min, s.CPUNsPerOp.Max, allocs,
			s.Preempted.Median, s.Preempted.Min, s.Preempted.Max)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Ratios A ÷ B, taken per repetition (same rep, interleaved), then median (min–max).")
	fmt.Fprintln(w, "Throughput > 1 and CPU/op < 1 favour A.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| batch | A ÷ B | throughput ratio | CPU/op ratio |")
	fmt.Fprintln(w, "|---:|---|---:|---:|")
	for _, r := range rats {
		fmt.Fprintf(w, "| %d | %s ÷ %s | %.3f (%.3f–%.3f) | %.3f (%.3f–%.3f) |\n", r.Batch, r.A, r.B,
			r.Throughput.Median, r.Throughput.Min, r.Throughput.Max,
			r.CPUPerOp.Median, r.CPUPerOp.Min, r.CPUPerOp.Max)
	}
}

// target is one of the goals for the median throughput ratio of
// ours to another contender.
type target struct {
	versus string
	batch  uint32 // 0: every batch size
	min    float64
}

// writeVerdicts prints whether each target holds.
func writeVerdicts(w io.Writer, rats []ratio, targets []target) {
	fmt.Fprintln(w)
	for _, t := range targets {
		for _, r := range rats {
			if r.A != ours || r.B != t.versus || (t.batch != 0 && r.Batch != t.batch) {
				continue
			}
			verdict := "MET"
			if r.Throughput.Median < t.min {
				verdict = "MISSED"
			}
			fmt.Fprintf(w, "- target ours ≥ %.2f× %s throughput at batch %d: %.3f× — %s (CPU per op: %.3f× theirs)\n",
				t.min, t.versus, r.Batch, r.Throughput.Median, verdict, r.CPUPerOp.Median)
		}
	}
}

// parseBatches reads a comma-separated list of positive batch sizes.
func parseBatches(s string, entries uint32) ([]uint32, error) {
	var out []uint32
	for f := range strings.SplitSeq(s, ",") {
		var b uint32
		if _, err := fmt.Sscanf(strings.TrimSpace(f), "%d", &b); err != nil || b == 0 {
			return nil, fmt.Errorf("-batches: %q is not a positive integer", f)
		}
		if b > entries {
			return nil, fmt.Errorf("-batches: %d exceeds -entries=%d", b, entries)
		}
		out = append(out, b)
	}
	return out, nil
}

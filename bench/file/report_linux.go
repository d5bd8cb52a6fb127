package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// stat is a median with its range across repetitions.
type stat struct{ med, lo, hi float64 }

func summarize(v []float64) stat {
	if len(v) == 0 {
		return stat{}
	}
	s := slices.Clone(v)
	slices.Sort(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return stat{m, s[0], s[len(s)-1]}
}

func (s stat) format(scale float64, prec int) string {
	return fmt.Sprintf("%.*f (%.*f–%.*f)", prec, s.med*scale, prec, s.lo*scale, prec, s.hi*scale)
}

// printMarkdown writes one read table per mode and depth, and the write table.
func printMarkdown(w io.Writer, r *report, modes []string, depths []int, names []string) {
	for _, mode := range modes {
		for _, d := range depths {
			fmt.Fprintf(w, "\n#### %s, queue depth %d\n\n", mode, d)
			fmt.Fprintln(w, "| contender | IOPS (k) | CPU µs/op | allocs/op | kernel enters/op | IOPS ÷ os | CPU/op ÷ os |")
			fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
			for _, n := range names {
				var iops, cpu, allocs, enters, riops, rcpu []float64
				for _, s := range r.Reads {
					if s.Contender != n || s.Mode != mode || s.Depth != d {
						continue
					}
					iops, cpu, allocs = append(iops, s.IOPS), append(cpu, s.CPUPerOp), append(allocs, s.AllocsPerOp)
					if s.EntersPerOp >= 0 {
						enters = append(enters, s.EntersPerOp)
					}
					if b := base(r, mode, d, s.Rep); b != nil && b.IOPS > 0 && b.CPUPerOp > 0 {
						riops, rcpu = append(riops, s.IOPS/b.IOPS), append(rcpu, s.CPUPerOp/b.CPUPerOp)
					}
				}
				if len(iops) == 0 {
					continue
				}
				al := summarize(allocs).format(1, 3)
				if strings.HasPrefix(n, "fio") {
					al = "–"
				}
				en := "–"
				if len(enters) > 0 {
					en = summarize(enters).format(1, 3)
				}
				fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s |\n", n, summarize(iops).format(1e-3, 1),
					summarize(cpu).format(1e6, 2), al, en, summarize(riops).format(1, 2), summarize(rcpu).format(1, 2))
			}
		}
	}
	if len(r.Writes) == 0 {
		return
	}
	fmt.Fprintln(w, "\n#### sequential 1 MiB writes, fsync every 64 MiB")
	fmt.Fprintln(w, "\n| contender | MiB/s | CPU ms/MiB | MiB/s ÷ os |")
	fmt.Fprintln(w, "|---|---|---|---|")
	for _, n := range allWriters {
		var mbps, cpu, rel []float64
		for _, s := range r.Writes {
			if s.Contender != n {
				continue
			}
			mbps, cpu = append(mbps, s.MiBps), append(cpu, s.CPUPerMiB)
			for _, b := range r.Writes {
				if b.Contender == "os" && b.Rep == s.Rep {
					rel = append(rel, s.MiBps/b.MiBps)
				}
			}
		}
		if len(mbps) > 0 {
			fmt.Fprintf(w, "| %s | %s | %s | %s |\n", n, summarize(mbps).format(1, 0), summarize(cpu).format(1e3, 2), summarize(rel).format(1, 2))
		}
	}
}

// base is os's sample of the same repetition, mode and depth: the paired baseline.
func base(r *report, mode string, d, rep int) *readSample {
	for i := range r.Reads {
		s := &r.Reads[i]
		if s.Contender == "os" && s.Mode == mode && s.Depth == d && s.Rep == rep {
			return s
		}
	}
	return nil
}

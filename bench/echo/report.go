//go:build linux

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/zokio/zokio/bench/echo/cref"
	"github.com/zokio/zokio/bench/internal/stats"
)

// sample is one contender's measurement in one scenario and repetition.
type sample struct {
	Contender string `json:"contender"`
	Scenario  string `json:"scenario"`
	Rep       int    `json:"rep"`
	Position  int    `json:"position"` // 0-based place in the rep's interleaved order
	Conns     int    `json:"conns"`
	Size      int    `json:"size"`
	Pipeline  int    `json:"pipeline"`

	WindowNs    int64   `json:"window_ns"`
	Msgs        uint64  `json:"msgs"` // replies verified in the window
	Latency     latency `json:"latency_ns"`
	MinConnMsgs uint64  `json:"min_conn_msgs"`
	MaxConnMsgs uint64  `json:"max_conn_msgs"`
	Rate        int     `json:"rate,omitempty"`   // requests/s asked for; 0: closed loop
	Behind      uint64  `json:"behind,omitempty"` // most requests the schedule ran behind

	// ServerCPUNs is the server's time on CPU over the window, all threads, from
	// /proc/<pid>/task/*/schedstat; ServerTicksNs the same from utime+stime.
	ServerCPUNs       int64 `json:"server_cpu_ns"`
	ServerTicksNs     int64 `json:"server_ticks_ns"`
	ServerTasks       int   `json:"server_tasks"`
	ServerTasksExited int   `json:"server_tasks_exited"`
	ServerSwitches    int64 `json:"server_switches"` // the server's threads switched onto a CPU in the window
	ServerMallocs     int64 `json:"server_mallocs"`  // in the window; -1 if unknown
	// ServerEnters is the server's kernel enters (io_uring_enter or epoll_wait) in
	// the window, from its runtime's stats; -1 where the server does not count them.
	ServerEnters  int64 `json:"server_enters"`
	LoadCPUNs     int64 `json:"load_cpu_ns"`
	LoadPreempted int64 `json:"load_preempted"`

	ServerCPUs  string          `json:"server_cpus"` // Cpus_allowed_list, as the kernel saw it
	LoadCPUs    string          `json:"load_cpus"`
	ServerStats json.RawMessage `json:"server_stats"` // the server's own counters at exit
}

func (s sample) msgsPerSec() float64  { return float64(s.Msgs) / (float64(s.WindowNs) / 1e9) }
func (s sample) mbPerSec() float64    { return s.msgsPerSec() * float64(s.Size) / 1e6 }
func (s sample) cpuNsPerMsg() float64 { return float64(s.ServerCPUNs) / float64(s.Msgs) }
func (s sample) serverUtil() float64  { return float64(s.ServerCPUNs) / float64(s.WindowNs) }
func (s sample) loadUtil() float64    { return float64(s.LoadCPUNs) / float64(s.WindowNs) }
func (s sample) allocsPerMsg() float64 {
	if s.ServerMallocs < 0 {
		return math.NaN()
	}
	return float64(s.ServerMallocs) / float64(s.Msgs)
}

func (s sample) entersPerMsg() float64 {
	if s.ServerEnters < 0 {
		return math.NaN()
	}
	return float64(s.ServerEnters) / float64(s.Msgs)
}

// latency is the generator's per-message latency summary, in nanoseconds.
type latency struct {
	P50  float64 `json:"p50"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p999"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

// spread is the median, min and max of repeated measurements.
type spread = stats.Spread

func spreadOf(v []float64) spread { return stats.Of(v) }

// summary condenses one contender's samples in one scenario.
type summary struct {
	Contender    string  `json:"contender"`
	Scenario     string  `json:"scenario"`
	MsgsPerSec   spread  `json:"msgs_per_sec"`
	MBPerSec     spread  `json:"mb_per_sec"`
	P50Ns        spread  `json:"p50_ns"`
	P99Ns        spread  `json:"p99_ns"`
	P999Ns       spread  `json:"p999_ns"`
	CPUNsPerMsg  spread  `json:"server_cpu_ns_per_msg"`
	ServerUtil   spread  `json:"server_cpu_util"`
	LoadUtil     spread  `json:"load_cpu_util"`
	AllocsPerMsg *spread `json:"server_allocs_per_msg,omitempty"` // nil where not counted (the C references)
	EntersPerMsg *spread `json:"server_enters_per_msg,omitempty"` // nil where not counted
}

// ratio compares contender A with B in one scenario: the median and range of
// the per-repetition ratios, each taken between the two samples of the same
// repetition (seconds apart), so slow drift of the machine cancels.
type ratio struct {
	Scenario   string `json:"scenario"`
	A          string `json:"a"`
	B          string `json:"b"`
	Throughput spread `json:"throughput"`  // A's msgs/s ÷ B's; > 1 favours A
	CPUPerMsg  spread `json:"cpu_per_msg"` // A's server CPU/msg ÷ B's; < 1 favours A
	P99        spread `json:"p99"`         // A's p99 latency ÷ B's; < 1 favours A
}

func summarize(samples []sample, cfg config) []summary {
	var out []summary
	for _, sc := range cfg.Scenarios {
		for _, c := range cfg.Contenders {
			var tput, mb, p50, p99, p999, cpu, su, lu, al, en []float64
			for _, s := range samples {
				if s.Scenario != sc.Name || s.Contender != c {
					continue
				}
				tput = append(tput, s.msgsPerSec())
				mb = append(mb, s.mbPerSec())
				p50 = append(p50, s.Latency.P50)
				p99 = append(p99, s.Latency.P99)
				p999 = append(p999, s.Latency.P999)
				cpu = append(cpu, s.cpuNsPerMsg())
				su = append(su, s.serverUtil())
				lu = append(lu, s.loadUtil())
				if a := s.allocsPerMsg(); !math.IsNaN(a) {
					al = append(al, a)
				}
				if e := s.entersPerMsg(); !math.IsNaN(e) {
					en = append(en, e)
				}
			}
			var allocs, enters *spread
			if len(al) > 0 {
				a := spreadOf(al)
				allocs = &a
			}
			if len(en) > 0 {
				e := spreadOf(en)
				enters = &e
			}
			out = append(out, summary{Contender: c, Scenario: sc.Name, MsgsPerSec: spreadOf(tput), MBPerSec: spreadOf(mb),
				P50Ns: spreadOf(p50), P99Ns: spreadOf(p99), P999Ns: spreadOf(p999), CPUNsPerMsg: spreadOf(cpu),
				ServerUtil: spreadOf(su), LoadUtil: spreadOf(lu), AllocsPerMsg: allocs, EntersPerMsg: enters})
		}
	}
	return out
}

// ratioPairs compares every contender with gnet, uring with epoll, every Go
// server with the C reference on its kernel interface (c-uring for the uring
// contenders, c-epoll for the others, which all run on epoll) unless the pair
// is already there the other way round, every contender with Tokio, and each
// -alt-server contender with the same contender on the real server.
func ratioPairs(contenders []string) [][2]string {
	var pairs [][2]string
	if slices.Contains(contenders, "gnet") {
		for _, c := range contenders {
			if c != "gnet" {
				pairs = append(pairs, [2]string{c, "gnet"})
			}
		}
	}
	if slices.Contains(contenders, "gonet") {
		for _, c := range contenders {
			if c != "gonet" && c != "gnet" {
				pairs = append(pairs, [2]string{c, "gonet"})
			}
		}
	}
	if slices.Contains(contenders, "uring") && slices.Contains(contenders, "epoll") {
		pairs = append(pairs, [2]string{"uring", "epoll"})
	}
	if slices.Contains(contenders, "c-uring") && slices.Contains(contenders, "c-epoll") {
		pairs = append(pairs, [2]string{"c-uring", "c-epoll"})
	}
	for _, c := range contenders {
		if cref.Is(strings.TrimSuffix(c, altSuffix)) {
			continue
		}
		ref := "c-epoll"
		if strings.Contains(c, "uring") {
			ref = "c-uring"
		}
		if slices.Contains(contenders, ref) && !slices.Contains(pairs, [2]string{ref, c}) {
			pairs = append(pairs, [2]string{c, ref})
		}
	}
	// SQPOLL modes against Off with as many loops.
	for _, c := range contenders {
		if !strings.HasPrefix(c, "znet-sq-") || strings.HasPrefix(c, "znet-sq-off") {
			continue
		}
		off := "znet-sq-off"
		if strings.HasSuffix(c, "-2l") {
			off += "-2l"
		}
		if slices.Contains(contenders, off) {
			pairs = append(pairs, [2]string{c, off})
		}
	}
	// Everything else against Tokio (issue 20): its current-thread runtime, or the
	// multi-thread one where that is the only Tokio in the run.
	tk := ""
	for _, t := range []string{"tokio", "tokio-mt2"} {
		if tk == "" && slices.Contains(contenders, t) {
			tk = t
		}
	}
	for _, c := range contenders {
		if tk != "" && c != tk && !slices.Contains(pairs, [2]string{tk, c}) && !slices.Contains(pairs, [2]string{c, tk}) {
			pairs = append(pairs, [2]string{c, tk})
		}
	}
	for _, c := range contenders {
		if base, ok := strings.CutSuffix(c, altSuffix); ok && slices.Contains(contenders, base) {
			pairs = append(pairs, [2]string{c, base})
		}
	}
	return pairs
}

func ratios(samples []sample, cfg config, pairs [][2]string) []ratio {
	type key struct {
		c, sc string
		rep   int
	}
	by := make(map[key]sample, len(samples))
	for _, s := range samples {
		by[key{s.Contender, s.Scenario, s.Rep}] = s
	}
	var out []ratio
	for _, sc := range cfg.Scenarios {
		for _, p := range pairs {
			var tput, cpu, p99 []float64
			for rep := range cfg.Reps {
				a, okA := by[key{p[0], sc.Name, rep}]
				b, okB := by[key{p[1], sc.Name, rep}]
				if okA && okB {
					tput = append(tput, a.msgsPerSec()/b.msgsPerSec())
					cpu = append(cpu, a.cpuNsPerMsg()/b.cpuNsPerMsg())
					p99 = append(p99, a.Latency.P99/b.Latency.P99)
				}
			}
			if len(tput) > 0 {
				out = append(out, ratio{Scenario: sc.Name, A: p[0], B: p[1], Throughput: spreadOf(tput), CPUPerMsg: spreadOf(cpu),
					P99: spreadOf(p99)})
			}
		}
	}
	return out
}

func writeTables(w io.Writer, sums []summary, rats []ratio, reps int) {
	fmt.Fprintf(w, "Medians of %d repetitions, (min–max) across them. Scenario CONNSxSIZEpPIPELINE. "+
		"Server CPU is all the server's threads over the measured window; util is that CPU time ÷ wall time "+
		"(1.00 = its CPU was saturated); load util is the generator's.\n\n", reps)
	fmt.Fprintln(w, "| scenario | contender | kmsg/s | p50 µs | p99 µs | p999 µs | server CPU ns/msg | server util | load util | allocs/msg | enters/msg |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, s := range sums {
		allocs, enters := "n/a", "–"
		if s.AllocsPerMsg != nil {
			allocs = fmtSpread(*s.AllocsPerMsg, 1, "%.2g")
		}
		if s.EntersPerMsg != nil {
			enters = fmtSpread(*s.EntersPerMsg, 1, "%.3f")
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %.2f | %.2f | %s | %s |\n", s.Scenario, s.Contender,
			fmtSpread(s.MsgsPerSec, 1e-3, "%.1f"), fmtSpread(s.P50Ns, 1e-3, "%.0f"), fmtSpread(s.P99Ns, 1e-3, "%.0f"),
			fmtSpread(s.P999Ns, 1e-3, "%.0f"), fmtSpread(s.CPUNsPerMsg, 1, "%.0f"),
			s.ServerUtil.Median, s.LoadUtil.Median, allocs, enters)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Ratios A ÷ B, taken per repetition (same rep, interleaved), then median (min–max).")
	fmt.Fprintln(w, "Server CPU/msg < 1, throughput > 1 and p99 < 1 favour A.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| scenario | A ÷ B | server CPU/msg ratio | throughput ratio | p99 ratio |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|")
	for _, r := range rats {
		fmt.Fprintf(w, "| %s | %s ÷ %s | %s | %s | %s |\n", r.Scenario, r.A, r.B,
			fmtSpread(r.CPUPerMsg, 1, "%.3f"), fmtSpread(r.Throughput, 1, "%.3f"), fmtSpread(r.P99, 1, "%.3f"))
	}
}

func fmtSpread(s spread, scale float64, f string) string {
	if math.IsNaN(s.Median) {
		return "n/a"
	}
	return fmt.Sprintf(f+" ("+f+"–"+f+")", s.Median*scale, s.Min*scale, s.Max*scale)
}

// target is one of the goals: the median server CPU/msg ratio of a
// contender to gnet in one scenario (closed loop, or at any fixed rate) must
// not exceed max.
type target struct {
	contender, scenario string
	max                 float64
}

var targets = []target{
	{"epoll", "1000x64p1", 1.0},
	{"uring", "1000x64p1", 0.8},
}

func writeVerdicts(w io.Writer, rats []ratio, ts []target) {
	fmt.Fprintln(w)
	for _, t := range ts {
		for _, r := range rats {
			if r.A != t.contender || r.B != "gnet" || (r.Scenario != t.scenario && !strings.HasPrefix(r.Scenario, t.scenario+"@")) {
				continue
			}
			verdict := "MET"
			if r.CPUPerMsg.Median > t.max {
				verdict = "MISSED"
			}
			fmt.Fprintf(w, "- target %s server CPU/msg ≤ %.2f× gnet at %s: %.3f× (range %.3f–%.3f) — %s\n",
				t.contender, t.max, r.Scenario, r.CPUPerMsg.Median, r.CPUPerMsg.Min, r.CPUPerMsg.Max, verdict)
		}
	}
}

// goal is one of issue 20's bars: contender A against B in every scenario, with
// the paired throughput ratio at least minTput, the CPU/msg ratio at most maxCPU
// and, where maxP99 > 0, the p99 ratio at most maxP99.
type goal struct {
	a, b                    string
	minTput, maxCPU, maxP99 float64
}

// goals are issue 20's: the event API on io_uring ahead of Tokio (≥ 1.1× its
// throughput at ≤ 0.9× its CPU/msg, p99 no worse) and level with C liburing; on
// epoll at least level with Tokio, which runs on epoll too.
var goals = []goal{
	{"znet-uring", "tokio", 1.1, 0.9, 1.0},
	{"znet-uring", "c-uring", 1.0, 1.0, 0},
	{"znet-epoll", "tokio", 1.0, 1.0, 0},
}

// writeGoals prints a verdict for each goal whose pair was measured.
func writeGoals(w io.Writer, rats []ratio, gs []goal) {
	for _, g := range gs {
		for _, r := range rats {
			if r.A != g.a || r.B != g.b {
				continue
			}
			ok := r.Throughput.Median >= g.minTput && r.CPUPerMsg.Median <= g.maxCPU
			p99 := ""
			if g.maxP99 > 0 {
				ok = ok && r.P99.Median <= g.maxP99
				p99 = fmt.Sprintf(", p99 %.3f× (≤ %.2f)", r.P99.Median, g.maxP99)
			}
			verdict := "MET"
			if !ok {
				verdict = "MISSED"
			}
			fmt.Fprintf(w, "- goal %s vs %s at %s: throughput %.3f× (≥ %.2f), CPU/msg %.3f× (≤ %.2f)%s — %s\n",
				g.a, g.b, r.Scenario, r.Throughput.Median, g.minTput, r.CPUPerMsg.Median, g.maxCPU, p99, verdict)
		}
	}
}

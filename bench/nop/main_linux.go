// Command nop compares NOP submit-and-reap throughput and CPU per operation
// of Zokio's uring binding ("ours"), giouring and a C liburing loop, run
// side by side, interleaved, in one process (the C loop as a child).
//
// Run it from bench/ (giouring links syscall.mmap by name):
//
//	go run -ldflags=-checklinkname=0 ./nop -batches=1,32,256 -reps=7 -cpu=auto
//
// It prints markdown tables on stdout, progress on stderr, and writes every
// raw sample to a JSON file (-json). See bench/README.md.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

type options struct {
	batches    string
	reps       int
	ops        uint64
	warmup     uint64
	entries    uint
	cpu        string
	jsonPath   string
	contenders string
}

func main() {
	var o options
	flag.StringVar(&o.batches, "batches", "1,32,256", "comma-separated batch sizes (NOPs per submit-and-wait)")
	flag.IntVar(&o.reps, "reps", 7, "repetitions; each runs every contender once per batch size, in rotated order")
	flag.Uint64Var(&o.ops, "ops", 4_000_000, "timed NOPs per run, rounded down to a multiple of the batch size")
	flag.Uint64Var(&o.warmup, "warmup", 100_000, "untimed NOPs before each timed run")
	flag.UintVar(&o.entries, "entries", 256, "SQ entries of every ring (the CQ gets the kernel default, twice that)")
	flag.StringVar(&o.cpu, "cpu", "", "pin every contender to this CPU: a number, auto (the last allowed CPU), or empty for no pinning")
	flag.StringVar(&o.jsonPath, "json", defaultJSONPath(), "file for the raw samples (empty: none)")
	flag.StringVar(&o.contenders, "contenders", strings.Join([]string{ours, gio, cLoop}, ","), "which contenders to run")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "nop:", err)
		os.Exit(1)
	}
}

func defaultJSONPath() string {
	return filepath.Join("results", "tmp", "nop-"+time.Now().UTC().Format("20060102T150405Z")+".json")
}

// report is the JSON file's content.
type report struct {
	Machine   machine   `json:"machine"`
	Config    config    `json:"config"`
	Samples   []sample  `json:"samples"`
	Summaries []summary `json:"summaries"`
	Ratios    []ratio   `json:"ratios"`
}

type config struct {
	Batches    []uint32 `json:"batches"`
	Reps       int      `json:"reps"`
	Ops        uint64   `json:"ops"`
	Warmup     uint64   `json:"warmup"`
	Entries    uint32   `json:"entries"`
	CPU        int      `json:"cpu"` // -1: not pinned
	Contenders []string `json:"contenders"`
}

func run(o options) error {
	if o.reps < 1 || o.ops == 0 || o.entries == 0 || o.entries > 1<<15 {
		return fmt.Errorf("need -reps ≥ 1, -ops > 0 and 0 < -entries ≤ 32768")
	}
	cfg := config{Reps: o.reps, Ops: o.ops, Warmup: o.warmup, Entries: uint32(o.entries)}
	var err error
	if cfg.Batches, err = parseBatches(o.batches, cfg.Entries); err != nil {
		return err
	}
	if cfg.CPU, err = resolveCPU(o.cpu); err != nil {
		return err
	}
	if cfg.Contenders, err = parseContenders(o.contenders); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "zokio-bench-nop-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	runners, err := newRunners(cfg.Contenders, dir)
	if err != nil {
		return err
	}

	m := describeMachine()
	fmt.Fprintf(os.Stderr, "%s; %d CPUs; kernel %s; %s; pinned to CPU %d (-1: none)\n",
		m.CPUModel, m.NumCPU, m.Kernel, m.GoVersion, cfg.CPU)
	samples, err := collect(cfg, runners)
	if err != nil {
		return err
	}

	sums := summarize(samples, cfg.Contenders, cfg.Batches)
	rats := ratios(samples, [][2]string{{ours, gio}, {ours, cLoop}, {gio, cLoop}}, cfg.Batches)
	fmt.Printf("## NOP submit+reap — %s\n\n", m.Date)
	fmt.Printf("%s, %d CPUs, kernel %s, %s, ring %d entries, %d timed NOPs per run, pinned CPU %d (-1: none)\n\n",
		m.CPUModel, m.NumCPU, m.Kernel, m.GoVersion, cfg.Entries, cfg.Ops, cfg.CPU)
	writeTables(os.Stdout, sums, rats, cfg.Reps)
	writeVerdicts(os.Stdout, rats, []target{{versus: gio, min: 1.0}, {versus: cLoop, batch: 32, min: 0.95}})

	if o.jsonPath == "" {
		return nil
	}
	return writeJSON(o.jsonPath, report{Machine: m, Config: cfg, Samples: samples, Summaries: sums, Ratios: rats})
}

func parseContenders(list string) ([]string, error) {
	var out []string
	for c := range strings.SplitSeq(list, ",") {
		if c != ours && c != gio && c != cLoop {
			return nil, fmt.Errorf("-contenders: unknown %q (have %s, %s, %s)", c, ours, gio, cLoop)
		}
		out = append(out, c)
	}
	return out, nil
}

// newRunners returns a function per contender that runs one workload; it
// compiles the C contender into dir when that one is asked for.
func newRunners(contenders []string, dir string) (map[string]func(workload) (sample, error), error) {
	runners := map[string]func(workload) (sample, error){
		ours: func(w workload) (sample, error) { return runGo(newOurs, w) },
		gio:  func(w workload) (sample, error) { return runGo(newGiouring, w) },
	}
	if slices.Contains(contenders, cLoop) {
		bin, err := buildC(dir)
		if err != nil {
			return nil, err
		}
		runners[cLoop] = func(w workload) (sample, error) { return runC(bin, w) }
	}
	return runners, nil
}

// collect runs every repetition. Within a repetition each batch size runs
// every contender once, back to back, in an order rotated by one place per
// repetition, so that no contender always runs first or right after the
// same neighbour.
func collect(cfg config, runners map[string]func(workload) (sample, error)) ([]sample, error) {
	var samples []sample
	n := len(cfg.Contenders)
	for rep := range cfg.Reps {
		for _, b := range cfg.Batches {
			w := workload{
				entries: cfg.Entries,
				batch:   b,
				ops:     cfg.Ops - cfg.Ops%uint64(b),
				warmup:  cfg.Warmup - cfg.Warmup%uint64(b),
				cpu:     cfg.CPU,
			}
			for pos := range n {
				c := cfg.Contenders[(rep+pos)%n]
				s, err := runners[c](w)
				if err != nil {
					return nil, fmt.Errorf("%s, batch %d, rep %d: %w", c, b, rep, err)
				}
				s.Contender, s.Batch, s.Rep, s.Position = c, b, rep, pos
				samples = append(samples, s)
				fmt.Fprintf(os.Stderr, "rep %d batch %3d %-10s %7.2f Mops/s %6.1f CPU ns/op %6.1f wall ns/op  csw %d/%d\n",
					rep, b, c, s.opsPerSec()/1e6, s.cpuNsPerOp(), float64(s.WallNs)/float64(s.Ops), s.VCSw, s.IVCSw)
			}
		}
	}
	return samples, nil
}

func writeJSON(path string, r report) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "raw samples:", path)
	return nil
}

// machine is what the results were measured on.
type machine struct {
	Date      string `json:"date"`
	NumCPU    int    `json:"num_cpu"` // CPUs this process may use, as nproc counts
	Kernel    string `json:"kernel"`
	GoVersion string `json:"go_version"`
	CPUModel  string `json:"cpu_model"`
}

func describeMachine() machine {
	m := machine{
		Date:      time.Now().UTC().Format(time.RFC3339),
		NumCPU:    runtime.NumCPU(),
		GoVersion: runtime.Version(),
		CPUModel:  "unknown CPU",
	}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		m.Kernel = unix.ByteSliceToString(u.Release[:])
	}
	if info, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(info), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	return m
}

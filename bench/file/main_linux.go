// Command file compares 4 KiB random reads and sequential 1 MiB writes through Zokio's
// zfile package (goroutine API, loop callback API and batch API; io_uring and epoll)
// with os.File and with fio's io_uring engine, side by side in one run: every
// repetition runs every contender once per (mode, depth), in rotated order, and the
// tables report medians with min–max.
//
// Run it from bench/:
//
//	go run ./file -file=/work/zfile-bench/data -reps=5
//
// It prints markdown on stdout, progress on stderr, and writes the raw samples to a
// JSON file (-json). See bench/README.md.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/zokio/zokio/sqpoll"
)

type options struct {
	file       string
	size       int64
	modes      string
	depths     string
	reps       int
	dur        time.Duration
	warm       time.Duration
	contenders string
	writeMB    int
	syncMB     int
	writeReps  int
	writers    string
	jsonPath   string
}

func main() {
	var o options
	flag.StringVar(&o.file, "file", "/work/zfile-bench/data", "file to read (created with random data if missing)")
	flag.Int64Var(&o.size, "size", 1<<30, "size of the file to create when missing")
	flag.StringVar(&o.modes, "modes", "cache,direct", "read modes: cache (page cache) and/or direct (O_DIRECT)")
	flag.StringVar(&o.depths, "depths", "1,32,128", "queue depths (goroutines for os and the goroutine API, ops in flight otherwise)")
	flag.IntVar(&o.reps, "reps", 5, "repetitions")
	flag.DurationVar(&o.dur, "dur", 3*time.Second, "timed duration of each read run")
	flag.DurationVar(&o.warm, "warm", 300*time.Millisecond, "untimed warm-up of each read run")
	flag.StringVar(&o.contenders, "contenders", strings.Join(allReaders, ","), "read contenders")
	flag.IntVar(&o.writeMB, "write-mb", 512, "MiB written per sequential-write run (0: skip the write scenario)")
	flag.IntVar(&o.syncMB, "sync-mb", 64, "fsync every this many MiB in the write scenario")
	flag.IntVar(&o.writeReps, "write-reps", 0, "repetitions of the write scenario (default: -reps)")
	flag.StringVar(&o.writers, "writers", strings.Join(allWriters, ","), "write contenders")
	flag.IntVar(&wbDepth, "wb-depth", wbDepth, "1 MiB writes the write-behind contenders (*-wb) keep in flight")
	flag.IntVar(&rtOpts.Loops, "loops", 0, "loops of every zfile runtime (0: one per CPU)")
	flag.BoolVar(&rtOpts.NoPin, "nopin", false, "leave the loops unpinned")
	flag.DurationVar(&rtOpts.SpinBeforePark, "spin", 0, "runtime.Options.SpinBeforePark of every zfile runtime")
	flag.Func("sqpoll", "SQPOLL mode of every zfile runtime whose contender has no +sq=MODE suffix: off, perring or shared (default: ZOKIO_SQPOLL, else off)",
		func(v string) (err error) { rtOpts.SQPoll.Mode, err = sqpoll.ParseMode(v); return err })
	flag.DurationVar(&rtOpts.SQPoll.Idle, "sqidle", 0, "SQ thread idle time (0: sqpoll.DefaultIdle)")
	flag.StringVar(&o.jsonPath, "json", filepath.Join("results", "tmp", "file-"+time.Now().UTC().Format("20060102T150405Z")+".json"), "raw samples (empty: none)")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "file:", err)
		os.Exit(1)
	}
}

type report struct {
	Machine map[string]string `json:"machine"`
	Options map[string]string `json:"options"`
	Reads   []readSample      `json:"reads"`
	Writes  []writeSample     `json:"writes"`
}

func run(o options) error {
	depths, err := ints(o.depths)
	if err != nil {
		return err
	}
	if wbDepth < 1 {
		return fmt.Errorf("-wb-depth %d: want at least 1", wbDepth)
	}
	if err := ensureFile(o.file, o.size); err != nil {
		return err
	}
	fi, err := os.Stat(o.file)
	if err != nil {
		return err
	}
	modes := strings.Split(o.modes, ",")
	names := strings.Split(o.contenders, ",")
	rep := report{Machine: machine(), Options: map[string]string{}}
	flag.VisitAll(func(f *flag.Flag) { rep.Options[f.Name] = f.Value.String() })
	for r := 0; r < o.reps; r++ {
		for _, mode := range modes {
			if mode == "cache" {
				if err := warmCache(o.file); err != nil {
					return err
				}
			}
			for _, d := range depths {
				for i := range names {
					name := names[(i+r)%len(names)] // rotate the order every repetition
					s, err := runReader(name, mode, o.file, fi.Size(), d, o.warm, o.dur)
					if err != nil {
						return fmt.Errorf("%s %s depth %d: %w", name, mode, d, err)
					}
					s.Rep = r
					rep.Reads = append(rep.Reads, s)
					fmt.Fprintf(os.Stderr, "rep %d %-6s qd %-3d %-16s %9.0f IOPS %6.2f µs CPU/op %6.3f allocs/op\n",
						r, mode, d, name, s.IOPS, s.CPUPerOp*1e6, s.AllocsPerOp)
				}
			}
		}
	}
	wreps := o.writeReps
	if wreps == 0 {
		wreps = o.reps
	}
	if o.writeMB > 0 {
		dir := filepath.Dir(o.file)
		// The first write run after reads pays for reclaiming page cache (5× the CPU
		// per MiB here): an untimed run of each contender goes first.
		writers := strings.Split(o.writers, ",")
		for _, name := range writers {
			if _, err := runWriter(name, dir, o.writeMB, o.syncMB); err != nil {
				return fmt.Errorf("write warm-up %s: %w", name, err)
			}
		}
		for r := 0; r < wreps; r++ {
			for i := range writers {
				name := writers[(i+r)%len(writers)]
				s, err := runWriter(name, dir, o.writeMB, o.syncMB)
				if err != nil {
					return fmt.Errorf("write %s: %w", name, err)
				}
				s.Rep = r
				rep.Writes = append(rep.Writes, s)
				fmt.Fprintf(os.Stderr, "rep %d write %-12s %7.1f MiB/s %6.1f µs CPU/MiB\n", r, name, s.MiBps, s.CPUPerMiB*1e6)
			}
		}
	}
	printMarkdown(os.Stdout, &rep, modes, depths, names)
	if o.jsonPath != "" {
		if err := os.MkdirAll(filepath.Dir(o.jsonPath), 0o755); err != nil {
			return err
		}
		b, _ := json.MarshalIndent(&rep, "", " ")
		return os.WriteFile(o.jsonPath, b, 0o644)
	}
	return nil
}

func ints(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || v < 1 {
			return nil, fmt.Errorf("bad list %q", s)
		}
		out = append(out, v)
	}
	return out, nil
}

func machine() map[string]string {
	m := map[string]string{"go": runtime.Version(), "gomaxprocs": strconv.Itoa(runtime.GOMAXPROCS(0)), "nproc": strconv.Itoa(runtime.NumCPU())}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m["kernel"] = strings.TrimSpace(string(b))
	}
	m["time"] = time.Now().UTC().Format(time.RFC3339)
	return m
}

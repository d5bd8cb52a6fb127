package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
)

// step is one experiment: the program and short flags it runs with, the tools it
// needs (skipped with the reason when one is missing), and the charts drawn from
// the tables it prints.
type step struct {
	name   string
	about  string
	args   func(dir string) []string
	needs  []string
	charts []chart
}

// steps are the report's experiments, in the order they run. Their sizes keep the
// whole report to about ten minutes on a 2-CPU machine.
var steps = []step{
	{
		name:  "nop",
		about: "NOP submit+reap throughput of Zokio's uring binding, giouring and a C liburing loop (batches of 1 and 32).",
		args: func(dir string) []string {
			return []string{"./nop", "-batches=1,32", "-reps=3", "-ops=1000000", "-warmup=50000", "-entries=256", "-cpu=auto",
				"-json=" + filepath.Join(dir, "nop.json")}
		},
		needs: []string{"gcc"},
		charts: []chart{
			{file: "nop-cpu.png", title: "NOP: CPU ns per op (lower is better)", value: "CPU ns/op", labels: []string{"batch", "contender"}},
		},
	},
	{
		name:  "runtime",
		about: "The runtime's spawn, post round trip and timers against goroutines, channels and time.AfterFunc.",
		args:  func(string) []string { return []string{"./runtime", "-reps=3", "-scale=0.3"} },
		charts: []chart{
			{file: "runtime-ns.png", title: "runtime: ns per op (lower is better)", value: "ns/op", labels: []string{"measure", "contender"}},
		},
	},
	{
		name: "echo",
		about: "TCP echo, server pinned to CPU 0 (one loop, GOMAXPROCS=1), load generator on CPU 1: znet's event API (znet-uring), " +
			"gonet's goroutine-per-connection echo on znet's net.Conn adapters (znetconn-uring, znetconn-epoll), Go's net (gonet), Tokio 1.24's current-thread runtime (tokio: a task per connection; " +
			"skipped where cargo or Debian's librust-tokio+full-dev is missing), and the C references (c-uring: liburing with a buffer ring; c-epoll).",
		args: func(dir string) []string {
			return []string{"./echo", "-reps=3", "-duration=2s", "-warmup=1s", "-scenarios=1000x64p1,1000x64p16,50x4096p16",
				"-contenders=znet-uring,znetconn-uring,znetconn-epoll,gonet,tokio,c-uring,c-epoll", "-json=" + filepath.Join(dir, "echo.json")}
		},
		needs: []string{"gcc", "taskset"},
		charts: []chart{
			{file: "echo-cpu.png", title: "echo: server CPU ns per message (lower is better)", value: "server CPU ns/msg", labels: []string{"scenario", "contender"}},
			{file: "echo-rate.png", title: "echo: thousand messages per second", value: "kmsg/s", labels: []string{"scenario", "contender"}},
		},
	},
	{
		name: "http",
		about: "HTTP plaintext under wrk (100 keep-alive connections), server pinned to CPU 0 (GOMAXPROCS=1, one loop), wrk on CPU 1: " +
			"net/http on Go's net and on znet's adapters (io_uring and epoll), plain and over crypto/tls, and `zokio http` (the event API).",
		args: func(dir string) []string {
			return []string{"./net", "http", "-reps=3", "-duration=2s", "-scenarios=100p1",
				"-contenders=nethttp,nethttp-znet-uring,nethttp-znet-epoll,nethttp-tls,nethttp-tls-znet-uring,zokio-uring", "-base=nethttp",
				"-json=" + filepath.Join(dir, "http.json")}
		},
		needs: []string{"wrk", "taskset"},
		charts: []chart{
			{file: "http-cpu.png", title: "http: server CPU ns per request (lower is better)", value: "server CPU ns/req", labels: []string{"scenario", "contender"}},
			{file: "http-rate.png", title: "http: requests per second", value: "req/s", labels: []string{"scenario", "contender"}},
		},
	},
	{
		name:  "file",
		about: "4 KiB random reads from the page cache: zfile (goroutine API on io_uring, loop API on io_uring) against os.File and fio's io_uring engine.",
		args: func(dir string) []string {
			return []string{"./file", "-file=" + filepath.Join(os.TempDir(), "zokio-report-data"), "-size=268435456", "-modes=cache",
				"-depths=1,32", "-reps=3", "-dur=1s", "-warm=200ms", "-contenders=os,go-uring,loop-uring,fio", "-write-mb=0",
				"-json=" + filepath.Join(dir, "file.json")}
		},
		needs: []string{"fio"},
		charts: []chart{
			{file: "file-iops.png", title: "file: thousand 4 KiB reads per second (page cache)", value: "IOPS (k)", labels: []string{"contender"}, heading: true},
		},
	},
}

func main() {
	only := flag.String("only", "", "comma list of experiments to run (default: all of "+names()+")")
	out := flag.String("out", "", "directory for the report (default: results/<UTC date>)")
	flag.Parse()
	if _, err := os.Stat("go.mod"); err != nil {
		fatal(fmt.Errorf("run it from bench/ (go run -ldflags=-checklinkname=0 ./report)"))
	}
	dir := *out
	if dir == "" {
		dir = filepath.Join("results", time.Now().UTC().Format("2006-01-02"))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fatal(err)
	}
	run := steps
	if *only != "" {
		run = nil
		for _, n := range strings.Split(*only, ",") {
			i := slices.IndexFunc(steps, func(s step) bool { return s.name == n })
			if i < 0 {
				fatal(fmt.Errorf("-only: unknown experiment %q (have %s)", n, names()))
			}
			run = append(run, steps[i])
		}
	}
	var md bytes.Buffer
	start := time.Now()
	fmt.Fprintf(&md, "# Zokio benchmark report — %s\n\n", start.UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&md, "Made with `cd bench && go run -ldflags=-checklinkname=0 ./report%s`. %s, %d CPUs, %s, %s; load average %s at the start.\n\n",
		onlyFlag(*only), cpuModel(), runtime.NumCPU(), kernel(), runtime.Version(), loadAvg())
	md.WriteString("Short runs (3 repetitions, windows of 1–2 s): read the paired ratios in each experiment's tables rather than its absolute figures, " +
		"and rerun an experiment with its own command (bench/README.md) for figures worth quoting. Charts show the median, the whiskers the min–max over the repetitions.\n\n")
	for i, s := range run {
		fmt.Fprintf(os.Stderr, "report: [%d/%d] %s (%s elapsed)\n", i+1, len(run), s.name, time.Since(start).Round(time.Second))
		fmt.Fprintf(&md, "## %s\n\n%s\n\n", s.name, s.about)
		if missing := missingTools(s.needs); missing != "" {
			fmt.Fprintf(os.Stderr, "report: skipping %s: %s not found\n", s.name, missing)
			fmt.Fprintf(&md, "Skipped: %s not found on this machine.\n\n", missing)
			continue
		}
		t0 := time.Now()
		text, err := runStep(s, dir, fmt.Sprintf("[%d/%d %s] ", i+1, len(run), s.name))
		fmt.Fprintf(&md, "Command: `go run -ldflags=-checklinkname=0 %s` (%s).\n\n", strings.Join(s.args(dir), " "), time.Since(t0).Round(time.Second))
		if err != nil {
			fmt.Fprintf(os.Stderr, "report: %s failed: %v\n", s.name, err)
			fmt.Fprintf(&md, "Failed: %v\n\n", err)
			continue
		}
		tables := parseTables(text)
		for _, c := range s.charts {
			if err := c.draw(tables, filepath.Join(dir, c.file)); err != nil {
				fmt.Fprintf(os.Stderr, "report: chart %s: %v\n", c.file, err)
				continue
			}
			fmt.Fprintf(&md, "![%s](%s)\n\n", c.title, c.file)
		}
		md.WriteString(demoteHeadings(text))
		md.WriteString("\n")
	}
	fmt.Fprintf(&md, "Finished in %s; load average %s at the end.\n", time.Since(start).Round(time.Second), loadAvg())
	path := filepath.Join(dir, "README.md")
	if err := os.WriteFile(path, md.Bytes(), 0o644); err != nil {
		fatal(err)
	}
	fmt.Fprintf(os.Stderr, "report: wrote %s in %s\n", path, time.Since(start).Round(time.Second))
}

// runStep runs one experiment, passing its progress (stderr) through with prefix and
// returning what it printed on stdout (its markdown).
func runStep(s step, dir, prefix string) (string, error) {
	cmd := exec.Command("go", append([]string{"run", "-ldflags=-checklinkname=0"}, s.args(dir)...)...)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	pr, pw := io.Pipe()
	cmd.Stderr = pw
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			fmt.Fprintln(os.Stderr, prefix+sc.Text())
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	err := cmd.Run()
	pw.Close()
	wg.Wait()
	if werr := os.WriteFile(filepath.Join(dir, s.name+".md"), stdout.Bytes(), 0o644); werr != nil && err == nil {
		err = werr
	}
	return stdout.String(), err
}

// demoteHeadings moves an experiment's own headings below the report's.
func demoteHeadings(s string) string {
	var b strings.Builder
	for _, line := range strings.SplitAfter(s, "\n") {
		if strings.HasPrefix(line, "#") {
			b.WriteString("##")
		}
		b.WriteString(line)
	}
	return b.String()
}

func missingTools(tools []string) string {
	var miss []string
	for _, t := range tools {
		if _, err := exec.LookPath(t); err != nil {
			miss = append(miss, t)
		}
	}
	return strings.Join(miss, ", ")
}

func names() string {
	var n []string
	for _, s := range steps {
		n = append(n, s.name)
	}
	return strings.Join(n, ",")
}

func onlyFlag(only string) string {
	if only == "" {
		return ""
	}
	return " -only=" + only
}

func loadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func kernel() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return runtime.GOOS
	}
	return "Linux " + strings.TrimSpace(string(b))
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "report:", err)
	os.Exit(1)
}

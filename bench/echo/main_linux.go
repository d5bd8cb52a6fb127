// Command echo compares TCP echo servers: package driverecho on Zokio's uring
// and epoll drivers, gnet v2 and Go's net package, each run as a process pinned
// to one CPU against a load generator pinned to another. Two minimal C servers
// (package cref: c-uring on liburing, c-epoll on epoll) are the reference points;
// they need gcc, and c-uring liburing's development files.
//
// Run it from bench/:
//
//	go run -ldflags=-checklinkname=0 ./echo -reps=5 -duration=5s
//
// It builds the server (echo/server) and the load generator (echo/load) once,
// then for every repetition, scenario and contender (interleaved, the order
// rotated per repetition) starts the server, runs the generator, and reads the
// server's CPU time over the measured window. It prints markdown tables on
// stdout, progress on stderr, and writes every raw sample to a JSON file
// (-json). See bench/README.md.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/zokio/zokio/bench/echo/cref"
	"github.com/zokio/zokio/bench/echo/tokio"
)

type options struct {
	reps        int
	duration    time.Duration
	warmup      time.Duration
	scenarios   string
	contenders  string
	serverCPU   int
	loadCPU     int
	loadProcs   int
	loadThreads int
	jsonPath    string
	profileDir  string
	uringArgs   string
	altServer   string
}

func main() {
	var o options
	flag.IntVar(&o.reps, "reps", 5, "repetitions; each runs every scenario and contender once, in rotated order")
	flag.DurationVar(&o.duration, "duration", 5*time.Second, "measured window of each run")
	flag.DurationVar(&o.warmup, "warmup", time.Second, "load before the window of each run")
	flag.StringVar(&o.scenarios, "scenarios", "1000x64p1,1000x64p1@40000,1000x64p16,50x4096p16",
		"comma list of CONNSxSIZEpPIPELINE, closed loop, or CONNSxSIZEpPIPELINE@RATE, RATE requests/s on a schedule")
	flag.StringVar(&o.contenders, "contenders", strings.Join(defaultContenders, ","),
		"comma list; known: "+strings.Join(knownContenders(), ", "))
	flag.IntVar(&o.serverCPU, "server-cpu", 0, "CPU the server is pinned to")
	flag.IntVar(&o.loadCPU, "load-cpu", 1, "CPU the load generator is pinned to")
	flag.IntVar(&o.loadProcs, "load-procs", 1, "GOMAXPROCS of the load generator")
	flag.IntVar(&o.loadThreads, "load-threads", 1, "event loops (OS threads) of the load generator")
	flag.StringVar(&o.jsonPath, "json", defaultJSONPath(), "file for the raw samples (empty: none)")
	flag.StringVar(&o.profileDir, "cpuprofile-dir", "", "if set, every server writes a CPU profile of its window here")
	flag.StringVar(&o.uringArgs, "uring-args", "", "extra server flags for the uring contenders, e.g. -entries=1024")
	flag.StringVar(&o.altServer, "alt-server", "", "a second server binary (say, built against a patched driver), run by the contenders named NAME"+altSuffix)
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "echo:", err)
		os.Exit(1)
	}
}

func defaultJSONPath() string {
	return filepath.Join("results", "tmp", "echo-"+time.Now().UTC().Format("20060102T150405Z")+".json")
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
	Reps        int        `json:"reps"`
	DurationNs  int64      `json:"duration_ns"`
	WarmupNs    int64      `json:"warmup_ns"`
	Scenarios   []scenario `json:"scenarios"`
	Contenders  []string   `json:"contenders"`
	ServerArgs  [][]string `json:"server_args"`
	ServerCPU   int        `json:"server_cpu"`
	LoadCPU     int        `json:"load_cpu"`
	LoadProcs   int        `json:"load_gomaxprocs"`
	LoadThreads int        `json:"load_threads"`
}

func run(o options) error {
	if o.reps < 1 || o.duration <= 0 || o.loadProcs < 1 || o.loadThreads < 1 {
		return fmt.Errorf("need -reps ≥ 1, -duration > 0, -load-procs ≥ 1, -load-threads ≥ 1")
	}
	cfg := config{Reps: o.reps, DurationNs: int64(o.duration), WarmupNs: int64(o.warmup),
		ServerCPU: o.serverCPU, LoadCPU: o.loadCPU, LoadProcs: o.loadProcs, LoadThreads: o.loadThreads}
	var err error
	if cfg.Scenarios, err = parseScenarios(o.scenarios); err != nil {
		return err
	}
	if cfg.Contenders, err = parseContenders(o.contenders, o.altServer != ""); err != nil {
		return err
	}
	if err := buildCRefs(cfg.Contenders); err != nil {
		return err
	}
	if cfg.Contenders, err = buildTokio(cfg.Contenders); err != nil {
		return err
	}
	for _, c := range cfg.Contenders {
		cfg.ServerArgs = append(cfg.ServerArgs, serverArgs(c, o.uringArgs))
	}
	if err := checkCPUs(o.serverCPU, o.loadCPU); err != nil {
		return err
	}
	raiseFileLimit()
	dir, err := os.MkdirTemp("", "zokio-bench-echo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bins, err := build(dir)
	if err != nil {
		return err
	}
	bins.alt = o.altServer
	if o.profileDir != "" {
		if err := os.MkdirAll(o.profileDir, 0o755); err != nil {
			return err
		}
	}

	m := describeMachine()
	fmt.Fprintf(os.Stderr, "%s; %d CPUs; kernel %s; %s; load average %s; server on CPU %d, load generator on CPU %d\n",
		m.CPUModel, m.NumCPU, m.Kernel, m.GoVersion, m.LoadAvgStart, o.serverCPU, o.loadCPU)
	samples, err := collect(cfg, bins, o)
	if err != nil {
		return err
	}
	m.LoadAvgEnd = loadAvg()

	sums := summarize(samples, cfg)
	rats := ratios(samples, cfg, ratioPairs(cfg.Contenders))
	fmt.Printf("## Echo — %s\n\n", m.Date)
	fmt.Printf("%s, %d CPUs, kernel %s, %s; server pinned to CPU %d (GOMAXPROCS=1), load generator to CPU %d "+
		"(GOMAXPROCS=%d, %d event loop(s)); %s warm-up + %s measured per run; load average %s at start, %s at end\n\n",
		m.CPUModel, m.NumCPU, m.Kernel, m.GoVersion, o.serverCPU, o.loadCPU, o.loadProcs, o.loadThreads,
		o.warmup, o.duration, m.LoadAvgStart, m.LoadAvgEnd)
	writeTables(os.Stdout, sums, rats, cfg.Reps)
	writeVerdicts(os.Stdout, rats, targets)
	writeGoals(os.Stdout, rats, goals)

	if o.jsonPath == "" {
		return nil
	}
	return writeJSON(o.jsonPath, report{Machine: m, Config: cfg, Samples: samples, Summaries: sums, Ratios: rats})
}

// collect runs every repetition. Within one, each scenario runs every contender
// once, back to back, in an order rotated by one place per repetition, so that
// no contender always runs first or right after the same neighbour.
func collect(cfg config, bins binaries, o options) ([]sample, error) {
	var samples []sample
	n := len(cfg.Contenders)
	for rep := range cfg.Reps {
		for _, sc := range cfg.Scenarios {
			for pos := range n {
				ci := (rep + pos) % n
				c := cfg.Contenders[ci]
				r := runSpec{
					bins: bins, scenario: sc, serverArgs: cfg.ServerArgs[ci], alt: strings.HasSuffix(c, altSuffix),
					serverCPU: o.serverCPU, loadCPU: o.loadCPU, loadProcs: o.loadProcs, loadThreads: o.loadThreads,
					duration: o.duration, warmup: o.warmup,
				}
				if o.profileDir != "" {
					r.profile = filepath.Join(o.profileDir, fmt.Sprintf("%s-%s-rep%d.pprof", c, sc.Name, rep))
				}
				s, err := runOne(r)
				if err != nil {
					return nil, fmt.Errorf("%s, %s, rep %d: %w", c, sc.Name, rep, err)
				}
				s.Contender, s.Scenario, s.Rep, s.Position = c, sc.Name, rep, pos
				samples = append(samples, s)
				fmt.Fprintf(os.Stderr, "rep %d %-11s %-6s %8.0f msg/s  server %6.0f ns/msg (%3.0f%% CPU)  load %3.0f%% CPU  p50 %7.0f µs  p99 %7.0f µs  allocs/msg %.2g  switches/msg %.3f  behind %d\n",
					rep, sc.Name, c, s.msgsPerSec(), s.cpuNsPerMsg(), 100*s.serverUtil(), 100*s.loadUtil(),
					s.Latency.P50/1e3, s.Latency.P99/1e3, s.allocsPerMsg(), float64(s.ServerSwitches)/float64(s.Msgs), s.Behind)
			}
		}
	}
	return samples, nil
}

// The contenders and the server flags that make them.
var contenderArgs = map[string][]string{
	"uring":       {"-impl=driver", "-driver=uring"},
	"uring-defer": {"-impl=driver", "-driver=uring", "-defer-taskrun"},
	"uring-e1024": {"-impl=driver", "-driver=uring", "-entries=1024"},
	"epoll":       {"-impl=driver", "-driver=epoll"},
	"gnet":        {"-impl=gnet"},
	"gonet":       {"-impl=gonet"},
	"znet-uring":  {"-impl=znet", "-driver=uring"},
	"znet-epoll":  {"-impl=znet", "-driver=epoll"},
	// gonet's goroutine-per-connection echo on znet's net.Conn adapters (issue 18).
	"znetconn-uring": {"-impl=znetconn", "-driver=uring"},
	"znetconn-epoll": {"-impl=znetconn", "-driver=epoll"},
	// The same on loops not locked to their threads (runtime.Options.UnlockedLoops).
	"znetconn-uring-unl": {"-impl=znetconn", "-driver=uring", "-znet-unlocked"},
	"znetconn-epoll-unl": {"-impl=znetconn", "-driver=epoll", "-znet-unlocked"},
	"znet-uring-unl":     {"-impl=znet", "-driver=uring", "-znet-unlocked"},
	// znet whose loop waits for batches of completions (runtime.Options.BatchWait).
	"znet-uring-bw20":  {"-impl=znet", "-driver=uring", "-znet-batchwait=20us"},
	"znet-uring-bw100": {"-impl=znet", "-driver=uring", "-znet-batchwait=100us"},
	// znet with 256 × 64 KiB receive buffers (bulk streams; the default is 64 × 64 KiB
	// on io_uring with incremental buffers, 1024 × 16 KiB elsewhere).
	"znet-uring-64k": {"-impl=znet", "-driver=uring", "-buffers=256", "-bufsize=65536"},
	// znet's copying echo from 64 × 64 KiB receive buffers, set explicitly: what
	// znet-uring gets by default where buffers are consumed incrementally, and on
	// epoll (whole buffers, default 1024 × 16 KiB) the alternative to znet-epoll.
	"znet-uring-g64": {"-impl=znet", "-driver=uring", "-buffers=64", "-bufsize=65536"},
	"znet-epoll-g64": {"-impl=znet", "-driver=epoll", "-buffers=64", "-bufsize=65536"},
	// znet's receive group as it was before the driver-dependent default: 1024 × 16 KiB.
	"znet-uring-g1024": {"-impl=znet", "-driver=uring", "-buffers=1024", "-bufsize=16384"},
	"netpoll":          {"-impl=netpoll"},
	// The C references (package cref), compiled with gcc at their first run.
	"c-uring": {"-impl=c-uring"},
	"c-epoll": {"-impl=c-epoll"},
	// Tokio 1.24 (package tokio, built with cargo at the first run): a task per
	// connection, a 64 KiB buffer; the current-thread runtime, and the
	// multi-thread one with 2 workers for runs that give the server 2 CPUs.
	"tokio":     {"-impl=tokio"},
	"tokio-mt2": {"-impl=tokio", "-tokio-workers=2"},
	// znet's echo sending the received buffers themselves (Conn.WriteRetained)
	// instead of copying them into the send buffer.
	"znet-uring-fwd": {"-impl=znet", "-driver=uring", "-znet-forward"},
	"znet-epoll-fwd": {"-impl=znet", "-driver=epoll", "-znet-forward"},
	// Forwarding from a small group of large buffers, 32 × 64 KiB (2 MiB instead of
	// 16): with incremental consumption small messages share a buffer, so a few large
	// ones serve 1000 connections.
	"znet-uring-fwd-64k": {"-impl=znet", "-driver=uring", "-znet-forward", "-buffers=32", "-bufsize=65536"},
	// Forwarding from a group as large as 1000 connections' 16 pipelined 4 KiB
	// messages need in flight at once (512 × 64 KiB, 32 MiB; issue 20): the
	// default 64 × 64 KiB group runs dry on the buffers held by sends.
	"znet-uring-fwd-g512": {"-impl=znet", "-driver=uring", "-znet-forward", "-buffers=512", "-bufsize=65536"},
	// Registered vs plain send buffers (issue 7): zero-copy sends of every size to
	// the loopback peer, from Go-heap buffers (-zc) or from a registered send arena
	// as fixed buffers (-zcreg); -arena takes the output buffers from the arena but
	// sends with copies (the kernel refuses a plain send from a fixed buffer).
	"znet-uring-zc":    {"-impl=znet", "-driver=uring", "-znet-zc=1", "-znet-zclocal"},
	"znet-uring-zcreg": {"-impl=znet", "-driver=uring", "-znet-zc=1", "-znet-zclocal", "-znet-sendarena=1024"},
	"znet-uring-arena": {"-impl=znet", "-driver=uring", "-znet-sendarena=1024"},
	// SQPOLL modes on znet (issue 7): one loop, so PerRing and Shared both have one
	// SQ thread; the -2l variants run two loops, where Shared has one SQ thread for
	// both rings and PerRing two.
	"znet-sq-off":       {"-impl=znet", "-driver=uring", "-znet-sqpoll=off"},
	"znet-sq-ring":      {"-impl=znet", "-driver=uring", "-znet-sqpoll=perring"},
	"znet-sq-shared":    {"-impl=znet", "-driver=uring", "-znet-sqpoll=shared"},
	"znet-sq-off-2l":    {"-impl=znet", "-driver=uring", "-znet-sqpoll=off", "-znet-loops=2"},
	"znet-sq-ring-2l":   {"-impl=znet", "-driver=uring", "-znet-sqpoll=perring", "-znet-loops=2"},
	"znet-sq-shared-2l": {"-impl=znet", "-driver=uring", "-znet-sqpoll=shared", "-znet-loops=2"},
}

var defaultContenders = []string{"uring", "epoll", "gnet", "gonet", "tokio"}

// altSuffix marks a contender run with the -alt-server binary: "epoll-alt" is
// "epoll" on that binary, so a patched driver can be measured beside the real one.
const altSuffix = "-alt"

func knownContenders() []string { return slices.Sorted(maps.Keys(contenderArgs)) }

func serverArgs(c, uringArgs string) []string {
	args := slices.Clone(contenderArgs[strings.TrimSuffix(c, altSuffix)])
	if strings.HasPrefix(c, "uring") {
		args = append(args, strings.Fields(uringArgs)...)
	}
	return args
}

func parseContenders(list string, alt bool) ([]string, error) {
	var out []string
	for c := range strings.SplitSeq(list, ",") {
		if strings.HasSuffix(c, altSuffix) && !alt {
			return nil, fmt.Errorf("-contenders: %q needs -alt-server", c)
		}
		if _, ok := contenderArgs[strings.TrimSuffix(c, altSuffix)]; !ok {
			return nil, fmt.Errorf("-contenders: unknown %q (have %s)", c, strings.Join(knownContenders(), ", "))
		}
		if slices.Contains(out, c) {
			return nil, fmt.Errorf("-contenders: %q twice", c)
		}
		out = append(out, c)
	}
	return out, nil
}

// scenario is one load: connections × message size, pipeline depth, and a
// fixed request rate or 0 for a closed loop.
type scenario struct {
	Name     string `json:"name"`
	Conns    int    `json:"conns"`
	Size     int    `json:"size"`
	Pipeline int    `json:"pipeline"`
	Rate     int    `json:"rate,omitempty"`
}

// parseScenarios reads CONNSxSIZEpPIPELINE[@RATE] items.
func parseScenarios(list string) ([]scenario, error) {
	var out []scenario
	for f := range strings.SplitSeq(list, ",") {
		s := scenario{Name: f}
		shape, rate, hasRate := strings.Cut(f, "@")
		_, err := fmt.Sscanf(shape, "%dx%dp%d", &s.Conns, &s.Size, &s.Pipeline)
		if err == nil && hasRate {
			s.Rate, err = strconv.Atoi(rate)
		}
		if err != nil || s.Conns < 1 || s.Size < 16 || s.Pipeline < 1 || s.Rate < 0 {
			return nil, fmt.Errorf("-scenarios: %q is not CONNSxSIZEpPIPELINE[@RATE] (size ≥ 16)", f)
		}
		out = append(out, s)
	}
	return out, nil
}

// checkCPUs refuses CPUs outside this process's mask, and one CPU for both.
func checkCPUs(cpus ...int) error {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return fmt.Errorf("reading the CPU mask: %w", err)
	}
	for _, c := range cpus {
		if c < 0 || !set.IsSet(c) {
			return fmt.Errorf("CPU %d is not in this process's CPU mask", c)
		}
	}
	if cpus[0] == cpus[1] {
		return fmt.Errorf("the server and the load generator need different CPUs")
	}
	return nil
}

func raiseFileLimit() {
	var lim unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &lim) == nil && lim.Cur < lim.Max {
		lim.Cur = lim.Max
		_ = unix.Setrlimit(unix.RLIMIT_NOFILE, &lim)
	}
}

// buildCRefs compiles the C references among contenders (or finds them in the
// cache) before any run, so that a missing gcc or liburing stops the runner at
// once, in one line that names the package to install.
func buildCRefs(contenders []string) error {
	for _, c := range contenders {
		if name := strings.TrimSuffix(c, altSuffix); cref.Is(name) {
			if _, err := cref.Build(name); err != nil {
				return err
			}
		}
	}
	return nil
}

// buildTokio builds the Tokio server (package tokio) if a Tokio contender is
// among contenders, before any run: the first build takes cargo minutes. Where
// cargo or Tokio's packaged crates are missing it drops the Tokio contenders with
// a message that says what to install, and fails only when none is left.
func buildTokio(contenders []string) ([]string, error) {
	isTokio := func(c string) bool { return strings.HasPrefix(strings.TrimSuffix(c, altSuffix), "tokio") }
	if !slices.ContainsFunc(contenders, isTokio) {
		return contenders, nil
	}
	fmt.Fprintln(os.Stderr, "echo: building the Tokio server (cargo, offline; cached after the first build)")
	_, err := tokio.Build()
	var m *tokio.MissingError
	if errors.As(err, &m) {
		rest := slices.DeleteFunc(slices.Clone(contenders), isTokio)
		fmt.Fprintf(os.Stderr, "echo: skipping the Tokio contenders: %v\n", err)
		if len(rest) == 0 {
			return nil, err
		}
		return rest, nil
	}
	return contenders, err
}

// binaries are the programs build made, and the -alt-server binary if any.
type binaries struct{ server, load, alt string }

// build compiles the server and the load generator into dir. The package paths
// resolve from anywhere inside the bench module.
func build(dir string) (binaries, error) {
	b := binaries{server: filepath.Join(dir, "server"), load: filepath.Join(dir, "load")}
	for _, t := range []struct{ out, pkg string }{
		{b.server, "github.com/zokio/zokio/bench/echo/server"},
		{b.load, "github.com/zokio/zokio/bench/echo/load"},
	} {
		cmd := exec.Command("go", "build", "-ldflags=-checklinkname=0", "-o", t.out, t.pkg)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return b, fmt.Errorf("building %s: %w", t.pkg, err)
		}
	}
	return b, nil
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
	Date         string `json:"date"`
	NumCPU       int    `json:"num_cpu"`
	Kernel       string `json:"kernel"`
	GoVersion    string `json:"go_version"`
	CPUModel     string `json:"cpu_model"`
	LoadAvgStart string `json:"loadavg_start"` // other work on the machine, a noise indicator
	LoadAvgEnd   string `json:"loadavg_end"`
}

func describeMachine() machine {
	m := machine{
		Date:         time.Now().UTC().Format(time.RFC3339),
		NumCPU:       runtime.NumCPU(),
		GoVersion:    runtime.Version(),
		CPUModel:     "unknown CPU",
		LoadAvgStart: loadAvg(),
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

// loadAvg returns the 1, 5 and 15 minute load averages.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// runSpec is one run: one contender's server under one scenario's load.
type runSpec struct {
	bins        binaries
	scenario    scenario
	serverArgs  []string
	alt         bool // run bins.alt instead of bins.server
	serverCPU   int
	loadCPU     int
	loadProcs   int
	loadThreads int
	duration    time.Duration
	warmup      time.Duration
	profile     string // server CPU profile path, or empty
}

// loadResult is the generator's "result" line (see echo/load).
type loadResult struct {
	WindowNs    int64   `json:"window_ns"`
	Msgs        uint64  `json:"msgs"`
	WarmupMsgs  uint64  `json:"warmup_msgs"`
	Errors      uint64  `json:"errors"`
	FirstError  string  `json:"first_error"`
	Latency     latency `json:"latency_ns"`
	MinConnMsgs uint64  `json:"min_conn_msgs"`
	MaxConnMsgs uint64  `json:"max_conn_msgs"`
	Behind      uint64  `json:"behind"`
	Server      struct {
		CPUNs       int64 `json:"cpu_ns"`
		TicksNs     int64 `json:"ticks_ns"`
		Tasks       int   `json:"tasks"`
		TasksExited int   `json:"tasks_exited"`
		Switches    int64 `json:"switches"`
	} `json:"server"`
	LoadCPUNs     int64 `json:"load_cpu_ns"`
	LoadPreempted int64 `json:"load_preempted"`
}

// runOne starts the server, waits for "ready", runs the load generator against
// it, marks the server's allocation count at the window's edges, then stops the
// server and collects its final stats.
func runOne(r runSpec) (sample, error) {
	sargs := append([]string{}, r.serverArgs...)
	if r.profile != "" {
		sargs = append(sargs, "-cpuprofile="+r.profile)
	}
	bin := r.bins.server
	if r.alt {
		bin = r.bins.alt
	}
	srv, err := startPinned(r.serverCPU, 1, bin, sargs...)
	if err != nil {
		return sample{}, err
	}
	defer srv.kill()
	line, err := srv.expect("ready ", 15*time.Second)
	if err != nil {
		return sample{}, fmt.Errorf("server: %w", err)
	}
	addr := strings.TrimPrefix(line, "ready ")
	sc := r.scenario
	ld, err := startPinned(r.loadCPU, r.loadProcs, r.bins.load,
		"-addr="+addr, "-conns="+strconv.Itoa(sc.Conns), "-size="+strconv.Itoa(sc.Size),
		"-pipeline="+strconv.Itoa(sc.Pipeline), "-duration="+r.duration.String(), "-warmup="+r.warmup.String(),
		"-threads="+strconv.Itoa(r.loadThreads), "-rate="+strconv.Itoa(sc.Rate),
		"-server-pid="+strconv.Itoa(srv.cmd.Process.Pid))
	if err != nil {
		return sample{}, err
	}
	defer ld.kill()

	s := sample{Conns: sc.Conns, Size: sc.Size, Pipeline: sc.Pipeline, ServerMallocs: -1, ServerEnters: -1,
		ServerCPUs: cpusAllowed(srv.cmd.Process.Pid), LoadCPUs: cpusAllowed(ld.cmd.Process.Pid)}
	var m0, m1 uint64
	var e0, e1 int64
	var res loadResult
	deadline := r.warmup + r.duration + time.Minute
	for done := false; !done; {
		line, err := ld.next(deadline)
		if err != nil {
			return s, fmt.Errorf("load generator: %w", err)
		}
		switch {
		case line == "window start":
			m0, e0, err = srv.mark()
		case line == "window end":
			m1, e1, err = srv.mark()
		case strings.HasPrefix(line, "result "):
			err = json.Unmarshal([]byte(strings.TrimPrefix(line, "result ")), &res)
			done = true
		default:
			fmt.Fprintln(os.Stderr, "load:", line)
		}
		if err != nil {
			return s, err
		}
	}
	if err := ld.wait(); err != nil {
		return s, fmt.Errorf("load generator: %w", err)
	}
	if res.Errors > 0 {
		return s, fmt.Errorf("the echo was wrong: %d errors, first: %s", res.Errors, res.FirstError)
	}
	if res.Msgs == 0 {
		return s, fmt.Errorf("no replies in the window")
	}
	if m1 >= m0 && m0 > 0 {
		s.ServerMallocs = int64(m1 - m0)
	}
	if e0 >= 0 && e1 >= e0 {
		s.ServerEnters = e1 - e0
	}

	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return s, err
	}
	stats, err := srv.expect("stats ", 30*time.Second)
	if err != nil {
		return s, fmt.Errorf("server: %w", err)
	}
	if err := srv.wait(); err != nil {
		return s, fmt.Errorf("server: %w", err)
	}
	s.ServerStats = json.RawMessage(strings.TrimPrefix(stats, "stats "))
	s.WindowNs, s.Msgs, s.Latency = res.WindowNs, res.Msgs, res.Latency
	s.MinConnMsgs, s.MaxConnMsgs, s.Rate, s.Behind = res.MinConnMsgs, res.MaxConnMsgs, sc.Rate, res.Behind
	s.ServerCPUNs, s.ServerTicksNs = res.Server.CPUNs, res.Server.TicksNs
	s.ServerTasks, s.ServerTasksExited = res.Server.Tasks, res.Server.TasksExited
	s.ServerSwitches = res.Server.Switches
	s.LoadCPUNs, s.LoadPreempted = res.LoadCPUNs, res.LoadPreempted
	return s, nil
}

// proc is a child process whose stdout is read line by line.
type proc struct {
	name   string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan string
	stderr *bytes.Buffer
	waited bool
}

// startPinned starts bin pinned to cpu with GOMAXPROCS=procs. A child inherits
// the CPU mask of the thread that forks it, so the start happens on a fresh
// goroutine locked to its thread and pinned there; the goroutine then exits
// without unlocking, so that the runtime ends the pinned thread instead of
// reusing it (STYLE.md rule 12).
func startPinned(cpu, procs int, bin string, args ...string) (*proc, error) {
	p := &proc{name: bin, lines: make(chan string, 16), stderr: new(bytes.Buffer)}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = append(withoutEnv(os.Environ(), "GOMAXPROCS"), "GOMAXPROCS="+strconv.Itoa(procs))
	p.cmd.Stderr = p.stderr
	var err error
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		var set unix.CPUSet
		set.Set(cpu)
		if err := unix.SchedSetaffinity(0, &set); err != nil {
			started <- fmt.Errorf("pinning to CPU %d: %w", cpu, err)
			return
		}
		started <- p.cmd.Start()
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
	}()
	return p, nil
}

func withoutEnv(env []string, key string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, key+"=") {
			out = append(out, kv)
		}
	}
	return out
}

// next returns the next stdout line, or an error at EOF or after timeout.
func (p *proc) next(timeout time.Duration) (string, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case line, ok := <-p.lines:
		if !ok {
			p.waited = true
			err := p.cmd.Wait() // after this, nothing writes stderr any more
			return "", p.exitError(fmt.Sprintf("exited early (%v)", err))
		}
		return line, nil
	case <-t.C:
		return "", fmt.Errorf("no output for %v", timeout)
	}
}

// expect skips lines until one starts with prefix, which it returns.
func (p *proc) expect(prefix string, timeout time.Duration) (string, error) {
	deadline := time.Now().Add(timeout)
	for {
		line, err := p.next(time.Until(deadline))
		if err != nil {
			return "", fmt.Errorf("waiting for %q: %w", prefix, err)
		}
		if strings.HasPrefix(line, prefix) {
			return line, nil
		}
		fmt.Fprintln(os.Stderr, "server:", line)
	}
}

// mark asks the server for its allocation count and, where it counts them, its
// kernel enters (-1 otherwise).
func (p *proc) mark() (mallocs uint64, enters int64, err error) {
	if _, err := io.WriteString(p.stdin, "mark\n"); err != nil {
		return 0, -1, fmt.Errorf("server mark: %w", err)
	}
	line, err := p.expect("mark ", 10*time.Second)
	if err != nil {
		return 0, -1, err
	}
	f := strings.Fields(strings.TrimPrefix(line, "mark "))
	if len(f) == 0 {
		return 0, -1, fmt.Errorf("server mark: %q", line)
	}
	if mallocs, err = strconv.ParseUint(f[0], 10, 64); err != nil {
		return 0, -1, fmt.Errorf("server mark: %w", err)
	}
	enters = -1
	if len(f) > 1 {
		if enters, err = strconv.ParseInt(f[1], 10, 64); err != nil {
			return 0, -1, fmt.Errorf("server mark: %w", err)
		}
	}
	return mallocs, enters, nil
}

func (p *proc) wait() error {
	p.waited = true
	for range p.lines { // drain, so the reader goroutine ends
	}
	if err := p.cmd.Wait(); err != nil {
		return p.exitError(err.Error())
	}
	return nil
}

// exitError describes a failed child with the end of its stderr.
func (p *proc) exitError(what string) error {
	tail := strings.TrimSpace(p.stderr.String())
	if len(tail) > 2000 {
		tail = "…" + tail[len(tail)-2000:]
	}
	return fmt.Errorf("%s: %s; stderr: %s", p.name, what, tail)
}

// kill ends a child that is still running (after an error), and reaps it.
func (p *proc) kill() {
	if p.waited {
		return
	}
	p.waited = true
	_ = p.cmd.Process.Kill()
	p.stdin.Close()
	for range p.lines {
	}
	_ = p.cmd.Wait()
}

// cpusAllowed reads a process's CPU mask as the kernel lists it, to record that
// the pinning took.
func cpusAllowed(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "?"
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Cpus_allowed_list:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}

// Command net runs bench/net, the networking measurements of runtime/znet that
// bench/echo does not cover. Run it from bench/:
//
//	go run -ldflags=-checklinkname=0 ./net accept   # SO_REUSEPORT per loop vs one acceptor handing off
//	go run -ldflags=-checklinkname=0 ./net idle     # RSS per idle connection: znet vs Go net, gnet, netpoll
//	go run -ldflags=-checklinkname=0 ./net http     # wrk: `zokio http` vs net/http vs fasthttp
//	go run ./net echo-ratios FILE                   # issue 5's echo targets from a bench/echo JSON file
//
// Every experiment runs its contenders interleaved (the order rotated per repetition),
// each server as its own process pinned with taskset, the load (a separate process)
// on another CPU, and prints medians with (min–max) over the repetitions as markdown.
// The echo servers are bench/echo's (echo/server), the HTTP servers `zokio http`
// (cmd/zokio) and net/httpserver.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// bins are the programs the experiments run.
type bins struct{ eserver, eload, churn, idle, httpserver, zokio, althttp string }

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: net accept|idle|http [flags] | net echo-ratios FILE")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "accept":
		err = runAccept(os.Args[2:])
	case "idle":
		err = runIdle(os.Args[2:])
	case "http":
		err = runHTTP(os.Args[2:])
	case "echo-ratios":
		err = runEchoRatios(os.Args[2:])
	default:
		err = fmt.Errorf("unknown experiment %q (want accept, idle, http or echo-ratios)", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "net:", err)
		os.Exit(1)
	}
}

// common are the flags every experiment takes.
type common struct {
	reps      int
	serverCPU string
	loadCPU   string
	jsonPath  string
}

func (c *common) register(fs *flag.FlagSet, name string, reps int) {
	fs.IntVar(&c.reps, "reps", reps, "repetitions; each runs every contender once, in rotated order")
	fs.StringVar(&c.serverCPU, "server-cpu", "0", "CPU list the server is pinned to (taskset -c)")
	fs.StringVar(&c.loadCPU, "load-cpu", "1", "CPU list the load is pinned to")
	fs.StringVar(&c.jsonPath, "json", filepath.Join("results", "tmp", name+"-"+time.Now().UTC().Format("20060102T150405Z")+".json"),
		"file for the raw samples (empty: none)")
}

// build compiles the programs into a temporary directory.
func build() (bins, func(), error) {
	dir, err := os.MkdirTemp("", "zokio-bench-net-")
	if err != nil {
		return bins{}, nil, err
	}
	cleanup := func() { os.RemoveAll(dir) }
	b := bins{
		eserver: filepath.Join(dir, "eserver"), eload: filepath.Join(dir, "eload"), churn: filepath.Join(dir, "churn"),
		idle: filepath.Join(dir, "idleclient"), httpserver: filepath.Join(dir, "httpserver"), zokio: filepath.Join(dir, "zokio"),
	}
	for _, t := range []struct{ out, pkg string }{
		{b.eserver, "github.com/zokio/zokio/bench/echo/server"},
		{b.eload, "github.com/zokio/zokio/bench/echo/load"},
		{b.churn, "github.com/zokio/zokio/bench/net/churn"},
		{b.idle, "github.com/zokio/zokio/bench/net/idleclient"},
		{b.httpserver, "github.com/zokio/zokio/bench/net/httpserver"},
		{b.zokio, "github.com/zokio/zokio/cmd/zokio"},
	} {
		cmd := exec.Command("go", "build", "-ldflags=-checklinkname=0", "-o", t.out, t.pkg)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			cleanup()
			return b, nil, fmt.Errorf("building %s: %w", t.pkg, err)
		}
	}
	return b, cleanup, nil
}

// process is a started program whose stdout is read line by line.
type process struct {
	cmd   *exec.Cmd
	out   *bufio.Scanner
	stdin io.WriteCloser
}

// start runs bin pinned to cpus (taskset -c) with GOMAXPROCS=procs (0: unset).
func start(cpus string, procs int, bin string, args ...string) (*process, error) {
	cmd := exec.Command("taskset", append([]string{"-c", cpus, bin}, args...)...)
	cmd.Env = os.Environ()
	if procs > 0 {
		cmd.Env = append(cmd.Env, "GOMAXPROCS="+strconv.Itoa(procs))
	}
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	return &process{cmd: cmd, out: sc, stdin: stdin}, nil
}

func (p *process) pid() int { return p.cmd.Process.Pid }

// line returns the next line of output that starts with prefix (others are skipped).
func (p *process) line(prefix string) (string, error) {
	for p.out.Scan() {
		if s, ok := strings.CutPrefix(p.out.Text(), prefix); ok {
			return s, nil
		}
	}
	if err := p.out.Err(); err != nil {
		return "", err
	}
	return "", fmt.Errorf("%s ended before printing %q", filepath.Base(p.cmd.Path), prefix)
}

// stop sends SIGTERM and returns the "stats " line the server printed, if any.
func (p *process) stop() string {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	p.stdin.Close()
	stats := ""
	for p.out.Scan() {
		if s, ok := strings.CutPrefix(p.out.Text(), "stats "); ok {
			stats = s
		}
	}
	_ = p.cmd.Wait()
	return stats
}

// readyAddr waits for a server's address: "ready ADDR" (bench servers) or
// "... listening on ADDR (" (`zokio http`).
func (p *process) readyAddr() (string, error) {
	for p.out.Scan() {
		t := p.out.Text()
		if a, ok := strings.CutPrefix(t, "ready "); ok {
			return a, nil
		}
		if _, rest, ok := strings.Cut(t, "listening on "); ok {
			a, _, _ := strings.Cut(rest, " ")
			return a, nil
		}
	}
	return "", fmt.Errorf("%s ended before announcing its address", filepath.Base(p.cmd.Path))
}

// result parses a load program's "result <json>" line.
func result(p *process, v any) error {
	s, err := p.line("result ")
	if err != nil {
		return err
	}
	if err := p.cmd.Wait(); err != nil {
		return fmt.Errorf("%s: %w", filepath.Base(p.cmd.Path), err)
	}
	return json.Unmarshal([]byte(s), v)
}

// rotated returns the contenders in the order of repetition rep.
func rotated(cs []string, rep int) []string {
	out := make([]string, len(cs))
	for i := range cs {
		out[i] = cs[(rep+i)%len(cs)]
	}
	return out
}

func writeJSON(path string, v any) error {
	if path == "" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "raw samples:", path)
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

func loadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

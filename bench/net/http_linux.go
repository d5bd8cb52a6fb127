package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/zokio/zokio/bench/internal/stats"
	"github.com/zokio/zokio/bench/net/proc"
)

// The http experiment: plaintext hello-world with wrk (Debian's package), as
// TechEmpower's plaintext test does: `zokio http` on io_uring and on epoll (one loop),
// net/http and fasthttp (GOMAXPROCS=1), each pinned to one CPU, wrk (one thread) on
// the other. Scenarios: connections × pipeline depth (wrk sends a depth of requests at
// once with a Lua script). Measured: requests per second, the server's CPU time per
// request over wrk's run, and wrk's latency percentiles.

type httpContender struct {
	bin  func(bins) string
	args []string
}

var httpContenders = map[string]httpContender{
	"zokio-uring": {func(b bins) string { return b.zokio }, []string{"http", "-driver=uring", "-loops=1", "-addr=127.0.0.1:0"}},
	"zokio-epoll": {func(b bins) string { return b.zokio }, []string{"http", "-driver=epoll", "-loops=1", "-addr=127.0.0.1:0"}},
	"nethttp":     {func(b bins) string { return b.httpserver }, []string{"-impl=nethttp"}},
	"fasthttp":    {func(b bins) string { return b.httpserver }, []string{"-impl=fasthttp"}},
	// net/http on znet's net.Listener (issue 18); loops: -loops (default 1).
	"nethttp-znet-uring": {func(b bins) string { return b.httpserver }, []string{"-impl=nethttp", "-net=znet", "-driver=uring"}},
	"nethttp-znet-epoll": {func(b bins) string { return b.httpserver }, []string{"-impl=nethttp", "-net=znet", "-driver=epoll"}},
	// The same on loops not locked to their threads (runtime.Options.UnlockedLoops).
	"nethttp-znet-uring-unl": {func(b bins) string { return b.httpserver }, []string{"-impl=nethttp", "-net=znet", "-driver=uring", "-unlocked"}},
	"nethttp-znet-epoll-unl": {func(b bins) string { return b.httpserver }, []string{"-impl=nethttp", "-net=znet", "-driver=epoll", "-unlocked"}},
	// The same over crypto/tls (HTTPS, a self-signed P-256 certificate).
	"nethttp-tls":            {func(b bins) string { return b.httpserver }, []string{"-impl=nethttp", "-tls"}},
	"nethttp-tls-znet-uring": {func(b bins) string { return b.httpserver }, []string{"-impl=nethttp", "-tls", "-net=znet", "-driver=uring"}},
	"nethttp-tls-znet-epoll": {func(b bins) string { return b.httpserver }, []string{"-impl=nethttp", "-tls", "-net=znet", "-driver=epoll"}},
}

// altSuffix marks a contender run with the -alt-httpserver binary:
// "nethttp-znet-epoll-alt" is nethttp-znet-epoll's flags on that program.
const altSuffix = "-alt"

// isTLS reports whether contender k serves HTTPS.
func isTLS(k string) bool { return strings.Contains(k, "-tls") }

const pipelineLua = `
init = function(args)
  local depth = tonumber(args[1]) or 1
  local r = {}
  for i = 1, depth do r[i] = wrk.format() end
  req = table.concat(r)
end
request = function() return req end
`

type httpSample struct {
	Contender string  `json:"contender"`
	Scenario  string  `json:"scenario"`
	Rep       int     `json:"rep"`
	ReqPerSec float64 `json:"req_per_sec"`
	CPUNs     float64 `json:"server_cpu_ns_per_req"`
	Switches  float64 `json:"server_switches_per_req"` // the server's threads switched onto a CPU
	P50Ms     float64 `json:"p50_ms"`
	P99Ms     float64 `json:"p99_ms"`
	Errors    string  `json:"errors,omitempty"`
}

func runHTTP(args []string) error {
	fs := flag.NewFlagSet("http", flag.ExitOnError)
	var c common
	c.register(fs, "http", 5)
	duration := fs.Duration("duration", 5*time.Second, "wrk's measured run")
	scen := fs.String("scenarios", "256p1,256p16", "comma list of CONNSpDEPTH")
	list := fs.String("contenders", "zokio-uring,zokio-epoll,nethttp,fasthttp", "comma list")
	base := fs.String("base", "fasthttp", "the contender the ratio columns divide by")
	procs := fs.Int("procs", 1, "GOMAXPROCS of the Go servers")
	loops := fs.Int("loops", 1, "loops of the Zokio servers (0: one per CPU)")
	alt := fs.String("alt-httpserver", "", "a second httpserver binary (say, built at an earlier commit), run by the contenders named NAME"+altSuffix)
	fs.Parse(args)
	if _, err := exec.LookPath("wrk"); err != nil {
		return fmt.Errorf("wrk not found: apt-get install -y wrk")
	}
	cs := strings.Split(*list, ",")
	for _, k := range cs {
		name, isAlt := strings.CutSuffix(k, altSuffix)
		if _, ok := httpContenders[name]; !ok {
			return fmt.Errorf("unknown contender %q", k)
		}
		if isAlt && *alt == "" {
			return fmt.Errorf("-contenders: %q needs -alt-httpserver", k)
		}
	}
	b, cleanup, err := build()
	if err != nil {
		return err
	}
	defer cleanup()
	b.althttp = *alt
	lua := filepath.Join(filepath.Dir(b.zokio), "pipeline.lua")
	if err := os.WriteFile(lua, []byte(pipelineLua), 0o644); err != nil {
		return err
	}
	scenarios := strings.Split(*scen, ",")
	fmt.Fprintf(os.Stderr, "http: server on CPU %s, wrk on CPU %s, load average %s\n", c.serverCPU, c.loadCPU, loadAvg())
	var samples []httpSample
	for rep := 0; rep < c.reps; rep++ {
		for _, sc := range scenarios {
			for _, k := range rotated(cs, rep) {
				s, err := httpOne(b, c, k, sc, lua, *duration, *procs, *loops)
				if err != nil {
					return fmt.Errorf("%s %s rep %d: %w", k, sc, rep, err)
				}
				s.Rep = rep
				samples = append(samples, s)
				fmt.Fprintf(os.Stderr, "rep %d %-7s %-12s %9.0f req/s  server %6.0f ns/req  %.3f switches/req  p50 %6.2f ms  p99 %6.2f ms %s\n",
					rep, sc, k, s.ReqPerSec, s.CPUNs, s.Switches, s.P50Ms, s.P99Ms, s.Errors)
			}
		}
	}
	printHTTP(samples, scenarios, cs, c, *duration, *base, *procs, *loops)
	return writeJSON(c.jsonPath, samples)
}

func printHTTP(samples []httpSample, scenarios, cs []string, c common, d time.Duration, base string, procs, loops int) {
	fmt.Printf("## HTTP plaintext with wrk — %s\n\n", time.Now().UTC().Format(time.RFC3339))
	fmt.Printf("Server pinned to CPU %s (Zokio loops %d, 0 = one per CPU; GOMAXPROCS=%d), wrk -t1 on CPU %s, %s per run after a 1 s warm-up run; scenario CONNSpDEPTH (DEPTH requests pipelined per connection); %d repetitions, interleaved; medians (min–max). Ratios are per repetition. Load average %s at the end.\n\n",
		c.serverCPU, loops, procs, c.loadCPU, d, c.reps, loadAvg())
	fmt.Printf("| scenario | contender | req/s | server CPU ns/req | CPU/req ÷ %s | req/s ÷ %s | p50 ms | p99 ms |\n", base, base)
	fmt.Println("|---|---|---:|---:|---:|---:|---:|---:|")
	for _, sc := range scenarios {
		for _, k := range cs {
			var rps, cpu, rc, rr, p50, p99 []float64
			for _, s := range samples {
				if s.Contender != k || s.Scenario != sc {
					continue
				}
				rps, cpu, p50, p99 = append(rps, s.ReqPerSec), append(cpu, s.CPUNs), append(p50, s.P50Ms), append(p99, s.P99Ms)
				for _, f := range samples {
					if f.Contender == base && f.Scenario == sc && f.Rep == s.Rep {
						rc, rr = append(rc, s.CPUNs/f.CPUNs), append(rr, s.ReqPerSec/f.ReqPerSec)
					}
				}
			}
			lat50, lat99 := stats.Of(p50).Format(1, "%.2f"), stats.Of(p99).Format(1, "%.2f")
			if !strings.HasSuffix(sc, "p1") {
				// wrk records one latency per pipelined batch and fills its
				// percentiles with zeros: not a measurement.
				lat50, lat99 = "n/a", "n/a"
			}
			fmt.Printf("| %s | %s | %s | %s | %s | %s | %s | %s |\n", sc, k, stats.Of(rps).Format(1, "%.0f"),
				stats.Of(cpu).Format(1, "%.0f"), stats.Of(rc).Format(1, "%.3f"), stats.Of(rr).Format(1, "%.3f"), lat50, lat99)
		}
	}
	fmt.Println()
}

func httpOne(b bins, c common, k, sc, lua string, d time.Duration, procs, loops int) (httpSample, error) {
	s := httpSample{Contender: k, Scenario: sc}
	conns, depth, ok := strings.Cut(sc, "p")
	if !ok {
		return s, fmt.Errorf("scenario %q is not CONNSpDEPTH", sc)
	}
	name, isAlt := strings.CutSuffix(k, altSuffix)
	hc := httpContenders[name]
	if isAlt {
		hc.bin = func(b bins) string { return b.althttp }
	}
	args := slices.Clone(hc.args)
	if strings.HasPrefix(k, "zokio-") || strings.Contains(k, "-znet-") {
		args = append(args, "-loops="+strconv.Itoa(loops))
	}
	srv, err := start(c.serverCPU, procs, hc.bin(b), args...)
	if err != nil {
		return s, err
	}
	defer srv.stop()
	addr, err := srv.readyAddr()
	if err != nil {
		return s, err
	}
	url := "http://" + addr + "/plaintext"
	if isTLS(k) {
		url = "https://" + addr + "/plaintext"
	}
	wrk := func(dur time.Duration) ([]byte, error) {
		args := []string{"-c", c.loadCPU, "wrk", "-t1", "-c" + conns, "-d" + dur.String(), "--latency", "-s", lua, url, "--", depth}
		return exec.Command("taskset", args...).CombinedOutput()
	}
	if _, err := wrk(time.Second); err != nil {
		return s, fmt.Errorf("wrk warm-up: %w", err)
	}
	cpu0, sw0 := proc.CPU(srv.pid()), proc.Switches(srv.pid())
	out, err := wrk(d)
	cpu1, sw1 := proc.CPU(srv.pid()), proc.Switches(srv.pid())
	if err != nil {
		return s, fmt.Errorf("wrk: %w: %s", err, out)
	}
	reqs, secs, p50, p99, errs := parseWrk(out)
	if reqs == 0 {
		return s, fmt.Errorf("wrk counted no requests: %s", out)
	}
	s.ReqPerSec, s.CPUNs, s.Switches = reqs/secs, float64(cpu1-cpu0)/reqs, float64(sw1-sw0)/reqs
	s.P50Ms, s.P99Ms, s.Errors = p50, p99, errs
	return s, nil
}

// parseWrk reads "N requests in Ts", the 50% and 99% latency lines, and error lines.
func parseWrk(out []byte) (reqs, secs, p50, p99 float64, errs string) {
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) >= 4 && f[1] == "requests" && f[2] == "in":
			reqs, _ = strconv.ParseFloat(f[0], 64)
			if d, err := time.ParseDuration(strings.TrimSuffix(f[3], ",")); err == nil {
				secs = d.Seconds()
			}
		case len(f) == 2 && f[0] == "50%":
			p50 = wrkMs(f[1])
		case len(f) == 2 && f[0] == "99%":
			p99 = wrkMs(f[1])
		case len(f) > 0 && (f[0] == "Socket" || f[0] == "Non-2xx"):
			errs += sc.Text() + "; "
		}
	}
	return
}

// wrkMs converts wrk's "1.23ms" / "456.00us" / "1.20s" to milliseconds.
func wrkMs(s string) float64 {
	for _, u := range []struct {
		suffix string
		ms     float64
	}{{"us", 1e-3}, {"ms", 1}, {"s", 1e3}} {
		if v, ok := strings.CutSuffix(s, u.suffix); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f * u.ms
		}
	}
	return 0
}

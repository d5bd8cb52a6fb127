package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/zokio/zokio/bench/internal/stats"
)

// The accept experiment: a znet echo server with two loops, spreading connections
// with SO_REUSEPORT (a listening socket and a multishot accept per loop) or with one
// acceptor on loop 0 handing every other connection to loop 1 (a post to its inbox).
// Two loads, each a separate process: connection churn (connect, one 16-byte echo,
// close, by 64 workers) and steady echo (1000 connections × 64 B, request/response).
// Measured: connections or messages per second, the server's CPU time per
// connection or message, and the balance (the share of completions on the busier
// loop; 0.50 is even).

type acceptSample struct {
	Mode     string  `json:"mode"`
	Load     string  `json:"load"`
	Rep      int     `json:"rep"`
	PerSec   float64 `json:"per_sec"`
	CPUNs    float64 `json:"server_cpu_ns_per_op"`
	Busier   float64 `json:"busier_loop_share"`
	Errors   int64   `json:"errors,omitempty"`
	Duration int64   `json:"window_ns"`
}

func runAccept(args []string) error {
	fs := flag.NewFlagSet("accept", flag.ExitOnError)
	var c common
	c.register(fs, "accept", 5)
	duration := fs.Duration("duration", 5*time.Second, "measured window of each run")
	driver := fs.String("driver", "uring", "Zokio driver")
	fs.Parse(args)
	b, cleanup, err := build()
	if err != nil {
		return err
	}
	defer cleanup()
	modes := []string{"reuseport", "handoff"}
	loads := []string{"churn", "echo1000"}
	fmt.Fprintf(os.Stderr, "accept: server (2 loops) on CPU %s, load on CPU %s, load average %s\n", c.serverCPU, c.loadCPU, loadAvg())
	var samples []acceptSample
	for rep := 0; rep < c.reps; rep++ {
		for _, load := range loads {
			for _, mode := range rotated(modes, rep) {
				s, err := acceptOne(b, c, mode, load, *driver, *duration)
				if err != nil {
					return fmt.Errorf("%s %s rep %d: %w", mode, load, rep, err)
				}
				s.Rep = rep
				samples = append(samples, s)
				fmt.Fprintf(os.Stderr, "rep %d %-9s %-9s %9.0f/s  server %7.0f ns/op  busier loop %.2f\n",
					rep, load, mode, s.PerSec, s.CPUNs, s.Busier)
			}
		}
	}
	fmt.Printf("## Accept: SO_REUSEPORT per loop vs one acceptor handing off — %s\n\n", time.Now().UTC().Format(time.RFC3339))
	fmt.Printf("znet echo server with 2 loops (driver %s) on CPU %s (GOMAXPROCS=2), load on CPU %s; %d repetitions of %s, interleaved; medians (min–max). churn: 64 workers connect, echo 16 B, close; echo1000: 1000 connections × 64 B request/response.\n\n",
		*driver, c.serverCPU, c.loadCPU, c.reps, *duration)
	fmt.Println("| load | mode | per second | server CPU ns per op | busier loop's share of completions |")
	fmt.Println("|---|---|---:|---:|---:|")
	for _, load := range loads {
		for _, mode := range modes {
			var ps, cpu, bl []float64
			for _, s := range samples {
				if s.Mode == mode && s.Load == load {
					ps, cpu, bl = append(ps, s.PerSec), append(cpu, s.CPUNs), append(bl, s.Busier)
				}
			}
			fmt.Printf("| %s | %s | %s | %s | %s |\n", load, mode, stats.Of(ps).Format(1, "%.0f"),
				stats.Of(cpu).Format(1, "%.0f"), stats.Of(bl).Format(1, "%.2f"))
		}
	}
	fmt.Println()
	fmt.Println("Paired per repetition, reuseport ÷ handoff:")
	fmt.Println()
	for _, load := range loads {
		var ps, cpu []float64
		for _, a := range samples {
			for _, h := range samples {
				if a.Load == load && h.Load == load && a.Rep == h.Rep && a.Mode == "reuseport" && h.Mode == "handoff" {
					ps, cpu = append(ps, a.PerSec/h.PerSec), append(cpu, a.CPUNs/h.CPUNs)
				}
			}
		}
		fmt.Printf("- %s: rate %s, server CPU per op %s\n", load, stats.Of(ps).Format(1, "%.3f"), stats.Of(cpu).Format(1, "%.3f"))
	}
	fmt.Println()
	return writeJSON(c.jsonPath, samples)
}

func acceptOne(b bins, c common, mode, load, driver string, d time.Duration) (acceptSample, error) {
	s := acceptSample{Mode: mode, Load: load}
	srv, err := start(c.serverCPU, 2, b.eserver, "-impl=znet", "-driver="+driver, "-znet-loops=2",
		"-znet-accept="+mode, "-addr=127.0.0.1:0")
	if err != nil {
		return s, err
	}
	addr, err := srv.readyAddr()
	if err != nil {
		srv.stop()
		return s, err
	}
	pid := strconv.Itoa(srv.pid())
	var lp *process
	if load == "churn" {
		lp, err = start(c.loadCPU, 1, b.churn, "-addr="+addr, "-workers=64", "-duration="+d.String(), "-warmup=1s", "-server-pid="+pid)
	} else {
		lp, err = start(c.loadCPU, 1, b.eload, "-addr="+addr, "-conns=1000", "-size=64", "-pipeline=1",
			"-duration="+d.String(), "-warmup=1s", "-server-pid="+pid)
	}
	if err != nil {
		srv.stop()
		return s, err
	}
	var r struct {
		Conns  int64 `json:"conns"`
		Msgs   int64 `json:"msgs"`
		Window int64 `json:"window_ns"`
		CPU    int64 `json:"server_cpu_ns"`
		Errors int64 `json:"errors"`
		Server struct {
			CPU int64 `json:"cpu_ns"`
		} `json:"server"`
	}
	err = result(lp, &r)
	st := srv.stop()
	if err != nil {
		return s, err
	}
	ops, cpu := r.Conns, r.CPU
	if load != "churn" {
		ops, cpu = r.Msgs, r.Server.CPU
	}
	if ops == 0 || r.Window == 0 {
		return s, fmt.Errorf("no operations completed")
	}
	s.PerSec, s.CPUNs, s.Errors, s.Duration = float64(ops)/(float64(r.Window)/1e9), float64(cpu)/float64(ops), r.Errors, r.Window
	s.Busier = busierShare(st)
	return s, nil
}

// busierShare reads the server's per-loop stats and returns the busier loop's share
// of completions.
func busierShare(statsLine string) float64 {
	var st struct {
		Loops []struct {
			Ops float64 `json:"ops_completed"`
		} `json:"loops"`
	}
	if json.Unmarshal([]byte(statsLine), &st) != nil || len(st.Loops) < 2 {
		return 0
	}
	a, b := st.Loops[0].Ops, st.Loops[1].Ops
	if a+b == 0 {
		return 0
	}
	return max(a, b) / (a + b)
}

package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strings"

	"github.com/zokio/zokio/bench/internal/stats"
)

// The echo-ratios report: it reads the JSON file bench/echo wrote (run with the
// contenders znet-uring, znet-epoll, gonet, gnet and netpoll) and checks issue 5's
// targets with ratios paired per repetition (same repetition, interleaved, seconds
// apart), which cancels most of a shared machine's drift:
//
//	1000x64p1:  server CPU/msg ≤ 0.75× gonet's; p99 ≤ gonet's; allocations per message ~0
//	1000x64p16: throughput ≥ 1.05× gonet's and ≥ 1.0× every peer's (gnet, netpoll)
//	50x4096p16: throughput ≥ 1.9× gonet's
//
// Beside the last target it prints the load generator's ceiling: the rate at
// which the generator's own CPU would be saturated (messages per second ÷ its
// CPU utilisation, i.e. the reciprocal of its CPU time per message), ÷ gonet's
// throughput in the same repetition. No server, however cheap, can be measured
// above that ratio with this generator on one CPU.

type echoSample struct {
	Contender string  `json:"contender"`
	Scenario  string  `json:"scenario"`
	Rep       int     `json:"rep"`
	WindowNs  float64 `json:"window_ns"`
	Msgs      float64 `json:"msgs"`
	ServerCPU float64 `json:"server_cpu_ns"`
	LoadCPU   float64 `json:"load_cpu_ns"`
	Mallocs   float64 `json:"server_mallocs"`
	Latency   struct {
		P99 float64 `json:"p99"`
	} `json:"latency_ns"`
}

func runEchoRatios(args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("usage: net echo-ratios results/tmp/echo-....json")
	}
	b, err := os.ReadFile(args[0])
	if err != nil {
		return err
	}
	var r struct {
		Samples []echoSample `json:"samples"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return err
	}
	type key struct {
		c, sc string
		rep   int
	}
	by := map[key]echoSample{}
	var ours, all []string
	for _, s := range r.Samples {
		by[key{s.Contender, s.Scenario, s.Rep}] = s
		if !contains(all, s.Contender) {
			all = append(all, s.Contender)
		}
		if strings.HasPrefix(s.Contender, "znet") && !contains(ours, s.Contender) {
			ours = append(ours, s.Contender)
		}
	}
	metric := map[string]func(echoSample) float64{
		"cpu/msg":    func(s echoSample) float64 { return s.ServerCPU / s.Msgs },
		"throughput": func(s echoSample) float64 { return s.Msgs / s.WindowNs },
		"p99":        func(s echoSample) float64 { return s.Latency.P99 },
		// The generator's ceiling in messages per ns (to divide by throughput).
		// NaN where the generator's CPU was not recorded.
		"ceiling": func(s echoSample) float64 {
			if s.LoadCPU <= 0 {
				return math.NaN()
			}
			return s.Msgs / s.LoadCPU
		},
	}
	across := func(a, bc, sc, ma, mb string) stats.Spread {
		var v []float64
		for rep := 0; rep < 100; rep++ {
			x, ok1 := by[key{a, sc, rep}]
			y, ok2 := by[key{bc, sc, rep}]
			if ok1 && ok2 && x.Msgs > 0 && y.Msgs > 0 {
				if r := metric[ma](x) / metric[mb](y); !math.IsNaN(r) {
					v = append(v, r)
				}
			}
		}
		return stats.Of(v)
	}
	paired := func(a, bc, sc, m string) stats.Spread { return across(a, bc, sc, m, m) }
	fmt.Printf("## Echo targets (issue 5), ratios paired per repetition — from %s\n\n", args[0])
	fmt.Println("| contender | target | measured, median (min–max) | verdict |")
	fmt.Println("|---|---|---:|---|")
	row := func(c, target string, s stats.Spread, ok bool) {
		v := "MET"
		if !ok {
			v = "MISSED"
		}
		if math.IsNaN(s.Median) {
			v = "n/a"
		}
		fmt.Printf("| %s | %s | %s | %s |\n", c, target, s.Format(1, "%.3f"), v)
	}
	for _, c := range ours {
		s := paired(c, "gonet", "1000x64p1", "cpu/msg")
		row(c, "1000x64p1 server CPU/msg ≤ 0.75× gonet", s, s.Median <= 0.75)
		s = paired(c, "gonet", "1000x64p1", "p99")
		row(c, "1000x64p1 p99 ≤ 1.0× gonet", s, s.Median <= 1.0)
		s = paired(c, "gonet", "1000x64p16", "throughput")
		row(c, "1000x64p16 throughput ≥ 1.05× gonet", s, s.Median >= 1.05)
		for _, peer := range []string{"gnet", "netpoll"} {
			s = paired(c, peer, "1000x64p16", "throughput")
			row(c, "1000x64p16 throughput ≥ 1.0× "+peer, s, s.Median >= 1.0)
		}
		s = paired(c, "gonet", "50x4096p16", "throughput")
		row(c, "50x4096p16 throughput ≥ 1.9× gonet", s, s.Median >= 1.9)
		var allocs []float64
		for _, smp := range r.Samples {
			if smp.Contender == c && smp.Scenario == "1000x64p1" && smp.Msgs > 0 {
				allocs = append(allocs, smp.Mallocs/smp.Msgs)
			}
		}
		a := stats.Of(allocs)
		row(c, "1000x64p1 server allocations per message ≈ 0", a, a.Median < 0.001)
	}
	fmt.Println()
	fmt.Println("The load generator's ceiling at 50x4096p16 (msgs/s ÷ its CPU utilisation), ÷ gonet's throughput in the same repetition:")
	fmt.Println()
	fmt.Println("| contender | throughput ÷ gonet | generator ceiling ÷ gonet |")
	fmt.Println("|---|---:|---:|")
	for _, c := range all {
		if c == "gonet" {
			continue
		}
		t := paired(c, "gonet", "50x4096p16", "throughput")
		if math.IsNaN(t.Median) {
			continue
		}
		fmt.Printf("| %s | %s | %s |\n", c, t.Format(1, "%.3f"), across(c, "gonet", "50x4096p16", "ceiling", "throughput").Format(1, "%.3f"))
	}
	fmt.Println()
	return nil
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

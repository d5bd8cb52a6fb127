package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/zokio/zokio/bench/internal/stats"
	"github.com/zokio/zokio/bench/net/proc"
)

// The idle experiment: the server's resident memory per idle connection. Each
// contender's echo server (bench/echo/server, one CPU, GOMAXPROCS=1) starts, settles,
// and its VmRSS is read; idle clients (separate processes, 10,000 connections or fewer
// each, since RLIMIT_NOFILE's hard limit is 20,000 here) open the connections, echo
// one 64-byte message on each, and hold them; after a settling pause VmRSS is read
// again. Per connection: the difference ÷ connections.

var idleContenders = map[string][]string{
	"znet-uring": {"-impl=znet", "-driver=uring"},
	"znet-epoll": {"-impl=znet", "-driver=epoll"},
	"gonet":      {"-impl=gonet"},
	"gnet":       {"-impl=gnet"},
	"netpoll":    {"-impl=netpoll"},
}

type idleSample struct {
	Contender string  `json:"contender"`
	Rep       int     `json:"rep"`
	Conns     int     `json:"conns"`
	RSS0      int64   `json:"rss_before"`
	RSS1      int64   `json:"rss_after"`
	PerConn   float64 `json:"bytes_per_conn"`
}

func runIdle(args []string) error {
	fs := flag.NewFlagSet("idle", flag.ExitOnError)
	var c common
	c.register(fs, "idle", 3)
	conns := fs.Int("conns", 19900, "idle connections (the server's RLIMIT_NOFILE bounds it)")
	settle := fs.Duration("settle", 3*time.Second, "pause before each RSS reading")
	list := fs.String("contenders", "znet-uring,znet-epoll,gonet,gnet,netpoll", "comma list")
	fs.Parse(args)
	cs := strings.Split(*list, ",")
	for _, k := range cs {
		if idleContenders[k] == nil {
			return fmt.Errorf("unknown contender %q", k)
		}
	}
	b, cleanup, err := build()
	if err != nil {
		return err
	}
	defer cleanup()
	fmt.Fprintf(os.Stderr, "idle: %d connections, server on CPU %s, clients on CPU %s, load average %s\n", *conns, c.serverCPU, c.loadCPU, loadAvg())
	var samples []idleSample
	for rep := 0; rep < c.reps; rep++ {
		for _, k := range rotated(cs, rep) {
			s, err := idleOne(b, c, k, *conns, *settle)
			if err != nil {
				return fmt.Errorf("%s rep %d: %w", k, rep, err)
			}
			s.Rep = rep
			samples = append(samples, s)
			fmt.Fprintf(os.Stderr, "rep %d %-11s RSS %6.1f → %6.1f MiB: %6.0f B/conn\n", rep, k,
				float64(s.RSS0)/(1<<20), float64(s.RSS1)/(1<<20), s.PerConn)
		}
	}
	fmt.Printf("## Idle connections: server RSS per connection — %s\n\n", time.Now().UTC().Format(time.RFC3339))
	fmt.Printf("%d connections, each having echoed one 64-byte message; VmRSS after a %s pause, minus VmRSS before; %d repetitions, interleaved; medians (min–max).\n\n", *conns, *settle, c.reps)
	fmt.Println("| contender | bytes per idle connection | RSS with the connections (MiB) | ÷ gonet |")
	fmt.Println("|---|---:|---:|---:|")
	per := map[string][]float64{}
	for _, s := range samples {
		per[s.Contender] = append(per[s.Contender], s.PerConn)
	}
	for _, k := range cs {
		var rss, ratio []float64
		for _, s := range samples {
			if s.Contender != k {
				continue
			}
			rss = append(rss, float64(s.RSS1)/(1<<20))
			for _, g := range samples {
				if g.Contender == "gonet" && g.Rep == s.Rep {
					ratio = append(ratio, s.PerConn/g.PerConn)
				}
			}
		}
		fmt.Printf("| %s | %s | %s | %s |\n", k, stats.Of(per[k]).Format(1, "%.0f"), stats.Of(rss).Format(1, "%.1f"), stats.Of(ratio).Format(1, "%.3f"))
	}
	fmt.Println()
	return writeJSON(c.jsonPath, samples)
}

func idleOne(b bins, c common, k string, conns int, settle time.Duration) (idleSample, error) {
	s := idleSample{Contender: k, Conns: conns}
	srv, err := start(c.serverCPU, 1, b.eserver, append(idleContenders[k], "-addr=127.0.0.1:0")...)
	if err != nil {
		return s, err
	}
	defer srv.stop()
	addr, err := srv.readyAddr()
	if err != nil {
		return s, err
	}
	time.Sleep(settle)
	s.RSS0 = proc.RSS(srv.pid())
	var clients []*process
	defer func() {
		for _, cl := range clients {
			cl.stdin.Close()
			cl.cmd.Wait()
		}
	}()
	for left := conns; left > 0; left -= 10000 {
		n := min(left, 10000)
		cl, err := start(c.loadCPU, 0, b.idle, "-addr="+addr, "-conns="+strconv.Itoa(n))
		if err != nil {
			return s, err
		}
		clients = append(clients, cl)
	}
	for _, cl := range clients {
		if _, err := cl.line("ready"); err != nil {
			return s, err
		}
	}
	time.Sleep(settle)
	s.RSS1 = proc.RSS(srv.pid())
	s.PerConn = float64(s.RSS1-s.RSS0) / float64(conns)
	return s, nil
}

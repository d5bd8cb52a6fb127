// Command server is the echo benchmark's server: one binary, several
// implementations, so that every contender starts, reports and stops the same
// way.
//
//	server -impl=driver -driver=uring|epoll   package driverecho on a Zokio driver
//	server -impl=gnet                         gnet v2, its idiomatic echo
//	server -impl=gonet                        Go's net, a goroutine per connection
//	server -impl=znet -driver=uring|epoll     Zokio's runtime and its event API (runtime/znet)
//	server -impl=znetconn -driver=uring|epoll gonet's goroutine per connection on znet's net.Conn adapters
//	server -impl=netpoll                      cloudwego/netpoll v0.7.2, its echo idiom
//	server -impl=c-uring                      C reference: liburing, provided buffer ring (package cref)
//	server -impl=c-epoll                      C reference: level-triggered epoll (package cref)
//	server -impl=tokio [-tokio-workers=N]     Tokio 1.24: a task per connection (package tokio)
//
// It prints "ready <addr>" on stdout once it listens. It reads commands from
// stdin, one per line: "mark" answers "mark <mallocs>" (the process's
// runtime.MemStats.Mallocs), so the runner can count allocations over the
// measured window; with -cpuprofile the first mark starts the CPU profile and the
// second stops it. SIGTERM or SIGINT stop it; it prints "stats <json>" and exits.
//
// The C references and Tokio compile (once, cached) and exec their program in
// place of this one, which then speaks the same protocol; its "mark" answers 0
// for the allocations it does not count.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"syscall"
)

type options struct {
	impl       string
	driver     string
	addr       string
	buffers    int
	bufSize    int
	entries    uint
	deferTask  bool
	lockThread bool
	cpuprofile string
}

func main() {
	var o options
	flag.StringVar(&o.impl, "impl", "driver", "implementation: driver, gnet, gonet, znet (Zokio's runtime/znet event API), znetconn (its net.Conn adapters), netpoll (cloudwego/netpoll), c-uring or c-epoll (the C references), tokio (Rust's Tokio)")
	flag.StringVar(&o.driver, "driver", "uring", "Zokio driver for -impl=driver and -impl=znet: uring or epoll")
	flag.StringVar(&o.addr, "addr", "127.0.0.1:0", "listen address, numeric host:port (port 0: any free port)")
	flag.IntVar(&o.buffers, "buffers", 0, "-impl=driver and c-uring: receive buffers in the group (0: the server's default, driverecho 4096, c-uring 2048)")
	flag.IntVar(&o.bufSize, "bufsize", 0, "-impl=driver and c-uring: bytes per receive buffer (0: the server's default, driverecho 2048, c-uring 32768)")
	flag.UintVar(&o.entries, "entries", 0, "-driver=uring and c-uring: SQ entries (0: the default, 256 for the driver, whose CQ gets 4×; 1024 for c-uring, whose CQ gets 8×)")
	flag.BoolVar(&o.deferTask, "defer-taskrun", false, "-driver=uring: set up the ring with SINGLE_ISSUER|DEFER_TASKRUN (implies -lock-thread)")
	flag.BoolVar(&o.lockThread, "lock-thread", true, "-impl=driver: run the loop on a goroutine locked to its OS thread")
	flag.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile of the window between the first two marks to this file")
	flag.Parse()
	raiseFileLimit()

	var err error
	switch o.impl {
	case "driver":
		err = runDriver(o)
	case "gnet":
		err = runGnet(o)
	case "gonet":
		err = runGonet(o)
	case "znet":
		err = runZnet(o)
	case "znetconn":
		err = runZnetConn(o)
	case "netpoll":
		err = runNetpoll(o)
	case "c-uring", "c-epoll":
		err = runCRef(o) // returns only on failure
	case "tokio":
		err = runTokio(o) // returns only on failure
	default:
		err = fmt.Errorf("-impl=%q: want driver, gnet, gonet, znet, znetconn, netpoll, c-uring, c-epoll or tokio", o.impl)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(1)
	}
}

// raiseFileLimit lifts the soft RLIMIT_NOFILE to the hard limit: a thousand
// connections need more than the usual 1024. (Go's runtime does the same at
// start-up since Go 1.19; this keeps it explicit.)
func raiseFileLimit() {
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) == nil && lim.Cur < lim.Max {
		lim.Cur = lim.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
}

// ready announces the listening address to the runner.
func ready(addr string) { fmt.Printf("ready %s\n", addr) }

// onSignal calls stop once on SIGTERM or SIGINT.
func onSignal(stop func()) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-ch
		stop()
	}()
}

// kernelEnters, when set, counts the server's io_uring_enter or epoll_wait calls so
// far; "mark" then reports it after the allocation count.
var kernelEnters func() uint64

// serveCommands answers the runner's "mark" lines on stdin until it closes.
func serveCommands(cpuprofile string) {
	go func() {
		marks := 0
		var prof *os.File
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			if sc.Text() != "mark" {
				continue
			}
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			marks++
			switch {
			case cpuprofile != "" && marks == 1:
				f, err := os.Create(cpuprofile)
				if err == nil && pprof.StartCPUProfile(f) == nil {
					prof = f
				}
			case prof != nil && marks == 2:
				pprof.StopCPUProfile()
				prof.Close()
				prof = nil
			}
			if kernelEnters != nil {
				fmt.Printf("mark %d %d\n", m.Mallocs, kernelEnters())
			} else {
				fmt.Printf("mark %d\n", m.Mallocs)
			}
		}
	}()
}

// exitStats prints the final counters as "stats <json>".
func exitStats(extra map[string]any) {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	if extra == nil {
		extra = map[string]any{}
	}
	extra["mallocs"] = m.Mallocs
	extra["num_gc"] = m.NumGC
	b, _ := json.Marshal(extra)
	fmt.Printf("stats %s\n", b)
}

// Command load is the echo benchmark's load generator, run as a process of its
// own beside the server. It opens -conns connections, keeps -pipeline messages
// of -size bytes outstanding on each, and after -warmup measures for -duration:
// messages and bytes echoed, per-message latency, and, with -server-pid, the
// server's CPU time over exactly that window.
//
// By default the load is a closed loop: each reply releases the next request,
// so the throughput is whatever the slower of server and generator allows.
// With -rate the requests go out on a fixed schedule instead (still at most
// -pipeline outstanding per connection), so that every server is measured at
// the same offered load; latency is then counted from the actual send.
//
// Design, chosen to keep the generator's own CPU per message low on a machine
// where it shares two cores with the server: -threads event loops (default 1),
// each a goroutine locked to its OS thread with its own level-triggered epoll
// over its share of raw non-blocking sockets. A loop makes one read per readable
// socket and one write for all the requests that read released, and nothing
// else per message: no goroutine wake-up, no netpoll round trip, no read that
// only returns EAGAIN (which a goroutine per connection through package net
// would each pay). Reads and writes are raw system calls (the sockets are
// non-blocking, so they cannot block the thread); only epoll_wait goes through
// the Go scheduler. The generator reports its own CPU time, so its headroom is
// on record for every run.
//
// Every message carries its connection number, its sequence number, its send
// time and a payload pattern derived from them. Each reply is checked byte for
// byte against what was sent, in order, so a server that drops, duplicates,
// reorders or corrupts bytes produces errors rather than a number.
//
// Output on stdout: "window start" and "window end" at the window's edges (the
// runner marks the server then), and finally "result <json>".
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

type options struct {
	addr     string
	conns    int
	size     int
	pipeline int
	duration time.Duration
	warmup   time.Duration
	threads  int
	rate     float64
	pid      int
}

// headerLen is the part of a message that identifies it: connection (4 bytes),
// sequence number (4), send time in nanoseconds since the generator started (8).
const headerLen = 16

func main() {
	var o options
	flag.StringVar(&o.addr, "addr", "", "server address, numeric host:port")
	flag.IntVar(&o.conns, "conns", 1000, "connections")
	flag.IntVar(&o.size, "size", 64, "message size in bytes (at least 16)")
	flag.IntVar(&o.pipeline, "pipeline", 1, "messages outstanding per connection")
	flag.DurationVar(&o.duration, "duration", 5*time.Second, "measured window")
	flag.DurationVar(&o.warmup, "warmup", time.Second, "load before the window, not measured")
	flag.IntVar(&o.threads, "threads", 1, "event loops, each on its own locked OS thread")
	flag.Float64Var(&o.rate, "rate", 0, "requests per second in all, sent on a schedule (0: closed loop, a new request per reply)")
	flag.IntVar(&o.pid, "server-pid", 0, "read this process's CPU time (all its threads) at the window's edges")
	flag.Parse()
	res, err := measure(o, os.Stdout)
	if err == nil {
		var b []byte
		if b, err = json.Marshal(res); err == nil {
			fmt.Printf("result %s\n", b)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

// result is the generator's report, printed as "result <json>".
type result struct {
	Conns    int     `json:"conns"`
	Size     int     `json:"size"`
	Pipeline int     `json:"pipeline"`
	Threads  int     `json:"threads"`
	Rate     float64 `json:"rate,omitempty"` // the fixed rate asked for; 0: closed loop

	WindowNs   int64  `json:"window_ns"`
	Msgs       uint64 `json:"msgs"`        // replies completed and verified in the window
	Bytes      uint64 `json:"bytes"`       // their bytes (each way)
	WarmupMsgs uint64 `json:"warmup_msgs"` // replies completed before the window
	Errors     uint64 `json:"errors"`      // data mismatches, resets, EOFs
	FirstError string `json:"first_error,omitempty"`

	LatencyNs   latency `json:"latency_ns"`
	MinConnMsgs uint64  `json:"min_conn_msgs"` // the least served connection's replies in the window
	MaxConnMsgs uint64  `json:"max_conn_msgs"`

	Server cpuWindow `json:"server"` // zero without -server-pid
	// Behind is, at a fixed rate, the most requests the schedule ran behind in
	// the window (summed over loops): a server that cannot keep up shows here.
	Behind   uint64 `json:"behind,omitempty"`
	LoadCPU  int64  `json:"load_cpu_ns"`
	LoadIVCS int64  `json:"load_preempted"` // involuntary context switches of the generator
}

type latency struct {
	P50  float64 `json:"p50"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p999"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

// measure runs the load and returns its result; it writes the window marks to
// marks.
func measure(o options, marks io.Writer) (result, error) {
	var res result
	if o.addr == "" || o.conns < 1 || o.size < headerLen || o.pipeline < 1 || o.threads < 1 || o.duration <= 0 || o.rate < 0 {
		return res, fmt.Errorf("need -addr, -conns ≥ 1, -size ≥ %d, -pipeline ≥ 1, -threads ≥ 1, -duration > 0, -rate ≥ 0", headerLen)
	}
	raiseFileLimit()
	sa, err := sockaddr(o.addr)
	if err != nil {
		return res, err
	}
	g := newGen(o)
	var loops []*loop
	defer func() {
		for _, l := range loops {
			l.close()
		}
	}()
	for range o.threads {
		l, err := newLoop(g)
		if err != nil {
			return res, err
		}
		loops = append(loops, l)
	}
	for i := range o.conns {
		fd, err := dial(sa)
		if err != nil {
			return res, fmt.Errorf("connection %d: %w", i, err)
		}
		loops[i%len(loops)].add(fd, uint32(i))
	}

	var wg sync.WaitGroup
	errs := make([]error, len(loops))
	for i, l := range loops {
		wg.Go(func() { errs[i] = l.run() })
	}
	stop := func() {
		g.phase.Store(phaseDone)
		wg.Wait()
	}
	time.Sleep(o.warmup)

	var ru0, ru1 unix.Rusage
	srv0, err := readCPU(o.pid)
	if err != nil {
		stop()
		return res, err
	}
	_ = unix.Getrusage(unix.RUSAGE_SELF, &ru0)
	t0 := time.Now()
	g.phase.Store(phaseWindow)
	fmt.Fprintln(marks, "window start")
	time.Sleep(o.duration)
	g.phase.Store(phaseDone)
	res.WindowNs = time.Since(t0).Nanoseconds()
	srv1, err := readCPU(o.pid)
	_ = unix.Getrusage(unix.RUSAGE_SELF, &ru1)
	fmt.Fprintln(marks, "window end")
	stop()
	if err != nil {
		return res, err
	}

	res.Conns, res.Size, res.Pipeline, res.Threads, res.Rate = o.conns, o.size, o.pipeline, o.threads, o.rate
	res.Server = srv1.since(srv0)
	res.LoadCPU = ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano()
	res.LoadIVCS = ru1.Nivcsw - ru0.Nivcsw
	var h hist
	res.MinConnMsgs = ^uint64(0)
	for i, l := range loops {
		if errs[i] != nil {
			return res, errs[i]
		}
		h.merge(&l.hist)
		res.Msgs += l.msgs[phaseWindow]
		res.WarmupMsgs += l.msgs[phaseWarmup]
		res.Errors += l.errors
		res.Behind += l.behind
		if res.FirstError == "" {
			res.FirstError = l.firstErr
		}
		for _, c := range l.conns {
			res.MinConnMsgs = min(res.MinConnMsgs, c.windowMsgs)
			res.MaxConnMsgs = max(res.MaxConnMsgs, c.windowMsgs)
		}
	}
	res.Bytes = res.Msgs * uint64(o.size)
	res.LatencyNs = latency{P50: h.quantile(0.5), P99: h.quantile(0.99), P999: h.quantile(0.999),
		Max: float64(h.max), Mean: h.mean()}
	return res, nil
}

// The phases of a run; loops read the current one after every epoll_wait and
// credit the replies they complete to it.
const (
	phaseWarmup int32 = iota
	phaseWindow
	phaseDone
)

// gen is what all loops share: the phase, the clock origin and the payload
// pattern.
type gen struct {
	o     options
	phase atomic.Int32 // stored by the main goroutine; loaded by each loop per wake-up
	base  time.Time
	// pat[j] = byte(j): a message's payload is pat[k : k+size-headerLen] for a k
	// that depends on its connection and sequence number.
	pat []byte
}

func newGen(o options) *gen {
	g := &gen{o: o, base: time.Now(), pat: make([]byte, 256+o.size)}
	for j := range g.pat {
		g.pat[j] = byte(j)
	}
	return g
}

func (g *gen) now() int64 { return int64(time.Since(g.base)) }

func patOffset(id, seq uint32) int { return int((seq*7 + id) & 255) }

func raiseFileLimit() {
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) == nil && lim.Cur < lim.Max {
		lim.Cur = lim.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
}

func sockaddr(addr string) (*unix.SockaddrInet4, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil || !ap.Addr().Unmap().Is4() {
		return nil, fmt.Errorf("-addr=%q: want a numeric IPv4 host:port", addr)
	}
	return &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().Unmap().As4()}, nil
}

// dial connects a blocking socket, then makes it non-blocking for the loops.
// SO_LINGER 0 makes the final close a reset, so that a run leaves no sockets in
// TIME_WAIT behind to exhaust the ephemeral ports of later runs.
func dial(sa *unix.SockaddrInet4) (int, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, os.NewSyscallError("socket", err)
	}
	for {
		err = unix.Connect(fd, sa)
		if err != unix.EINTR {
			break
		}
	}
	if err == nil {
		err = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	}
	if err == nil {
		err = unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
	}
	if err == nil {
		err = unix.SetNonblock(fd, true)
	}
	if err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

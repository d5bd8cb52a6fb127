// Command churn is bench/net's connection-churn load generator: workers that each
// connect, send one 16-byte message, read its echo and close, over and over, for a
// warm-up and a measured window. It prints "result <json>": connections completed in
// the window, and the server's CPU time over the window when -server-pid is given.
// Connections end with a reset (SO_LINGER 0), so none lingers in TIME_WAIT; source
// addresses rotate over 127.0.0.1..N besides.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zokio/zokio/bench/net/proc"
)

func main() {
	addr := flag.String("addr", "", "server address")
	workers := flag.Int("workers", 64, "concurrent connections being made")
	duration := flag.Duration("duration", 5*time.Second, "measured window")
	warmup := flag.Duration("warmup", time.Second, "churn before the window")
	pid := flag.Int("server-pid", 0, "read this process's CPU time at the window's edges")
	sources := flag.Int("sources", 8, "source addresses 127.0.0.1..N")
	flag.Parse()
	var done, errs atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < *workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(1+w%*sources))}}
			msg, got := []byte("0123456789abcdef"), make([]byte, 16)
			for {
				select {
				case <-stop:
					return
				default:
				}
				c, err := d.Dial("tcp4", *addr)
				if err == nil {
					if _, err = c.Write(msg); err == nil {
						_, err = io.ReadFull(c, got)
					}
					// Reset rather than FIN: an orderly close leaves the 4-tuple in
					// TIME_WAIT for a minute, and at thousands of connections a second
					// the tuples run out and connects stall on SYN retries.
					c.(*net.TCPConn).SetLinger(0)
					c.Close()
				}
				if err != nil {
					errs.Add(1)
					continue
				}
				done.Add(1)
			}
		}()
	}
	time.Sleep(*warmup)
	c0, s0 := done.Load(), proc.CPU(*pid)
	start := time.Now()
	time.Sleep(*duration)
	c1, s1 := done.Load(), proc.CPU(*pid)
	window := time.Since(start)
	close(stop)
	wg.Wait()
	res := map[string]any{"conns": c1 - c0, "window_ns": window.Nanoseconds(), "server_cpu_ns": s1 - s0, "errors": errs.Load()}
	b, _ := json.Marshal(res)
	fmt.Printf("result %s\n", b)
	if errs.Load() > 0 {
		fmt.Fprintf(os.Stderr, "churn: %d failed connections\n", errs.Load())
	}
}

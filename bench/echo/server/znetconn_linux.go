package main

import (
	"context"
	"net"
	"os"
	"sync/atomic"
	"time"

	"github.com/zokio/zokio/runtime"
	"github.com/zokio/zokio/runtime/driver"
	"github.com/zokio/zokio/runtime/znet"
)

// runZnetConn is runGonet's server on znet's adapters: znet.Listen's net.Listener
// and a goroutine per connection with the same 16 KiB Read/Write loop, so the
// difference from gonet is the net.Conn underneath. The runtime runs -znet-loops
// loops (default 1) on -driver.
func runZnetConn(o options) error {
	kind, err := driver.ParseKind(o.driver)
	if err != nil {
		return err
	}
	rt, err := runtime.New(runtime.Options{Loops: *znetLoops, Driver: kind, RingEntries: uint32(o.entries), UnlockedLoops: *znetUnlock})
	if err != nil {
		return err
	}
	ln, err := znet.Listen(context.Background(), rt, "tcp4", o.addr)
	if err != nil {
		_ = rt.Close(context.Background())
		return err
	}
	var conns atomic.Int64
	var stopping atomic.Bool
	onSignal(func() {
		stopping.Store(true)
		_ = ln.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = rt.Close(ctx)
		exitStats(map[string]any{"impl": "znetconn", "driver": string(rt.Driver().Kind), "open_conns": conns.Load()})
		os.Exit(0)
	})
	serveCommands(o.cpuprofile)
	ready(ln.Addr().String())
	for {
		c, err := ln.Accept()
		if err != nil {
			if stopping.Load() {
				select {} // the signal handler prints the stats and exits
			}
			return err
		}
		conns.Add(1)
		go echoConn(c, &conns)
	}
}

// echoConn is the goroutine-per-connection echo both gonet and znetconn run.
func echoConn(c net.Conn, conns *atomic.Int64) {
	defer conns.Add(-1)
	defer c.Close()
	buf := make([]byte, 16<<10)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

//go:build linux

package main

import (
	"net"
	"os"
	"sync/atomic"
)

// runGonet serves with Go's net package: an accept loop and a goroutine per
// connection copying with a 16 KiB buffer (enough for any pipelined burst of
// small messages, and for 4 KiB ones). Not io.Copy: TCPConn.ReadFrom would
// splice(2) through a pipe, which is not the read/write loop a Go server writes.
func runGonet(o options) error {
	ln, err := net.Listen("tcp4", o.addr)
	if err != nil {
		return err
	}
	var conns atomic.Int64
	onSignal(func() {
		exitStats(map[string]any{"impl": "gonet", "open_conns": conns.Load()})
		os.Exit(0)
	})
	serveCommands(o.cpuprofile)
	ready(ln.Addr().String())
	for {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		conns.Add(1)
		go echoConn(c, &conns)
	}
}

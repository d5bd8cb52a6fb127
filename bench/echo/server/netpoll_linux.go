package main

import (
	"context"
	"net"
	"time"

	"github.com/cloudwego/netpoll"
)

// netpollEcho is cloudwego/netpoll's echo idiom: take everything the connection's
// reader holds, hand it to the writer without copying, flush, release.
func netpollEcho(_ context.Context, c netpoll.Connection) error {
	r, w := c.Reader(), c.Writer()
	buf, err := r.Next(r.Len())
	if err != nil {
		return err
	}
	if _, err := w.WriteBinary(buf); err != nil {
		return err
	}
	err = w.Flush()
	_ = r.Release()
	return err
}

// runNetpoll serves with cloudwego/netpoll v0.7.2: its listener and event loop, its
// defaults (one poller at GOMAXPROCS=1, handlers on its goroutine pool).
func runNetpoll(o options) error {
	ln, err := netpoll.CreateListener("tcp4", o.addr)
	if err != nil {
		return err
	}
	loop, err := netpoll.NewEventLoop(netpollEcho)
	if err != nil {
		ln.Close()
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- loop.Serve(ln) }()
	onSignal(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = loop.Shutdown(ctx)
	})
	serveCommands(o.cpuprofile)
	ready(ln.Addr().(*net.TCPAddr).String())
	err = <-errc
	exitStats(map[string]any{"impl": "netpoll"})
	return err
}

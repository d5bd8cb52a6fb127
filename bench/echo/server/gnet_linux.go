package main

import (
	"context"
	"fmt"
	"net/netip"
	"os"

	"github.com/panjf2000/gnet/v2"
	"golang.org/x/sys/unix"
)

// gnetEcho is gnet's own echo example: take everything buffered, write it back.
// c.Write on the event loop writes at once and buffers only what the socket
// does not take (AsyncWrite is for other goroutines).
type gnetEcho struct {
	gnet.BuiltinEventEngine
	addr chan string
	eng  gnet.Engine
}

func (e *gnetEcho) OnBoot(eng gnet.Engine) gnet.Action {
	e.eng = eng
	addr, err := engineAddr(eng)
	if err != nil {
		fmt.Fprintln(os.Stderr, "server: gnet listener address:", err)
		return gnet.Shutdown
	}
	e.addr <- addr
	return gnet.None
}

func (e *gnetEcho) OnTraffic(c gnet.Conn) gnet.Action {
	buf, _ := c.Next(-1)
	_, _ = c.Write(buf)
	return gnet.None
}

// engineAddr reads the bound address off a duplicate of the listener, since gnet
// reports only the address it was given (port 0 included).
func engineAddr(eng gnet.Engine) (string, error) {
	fd, err := eng.Dup()
	if err != nil {
		return "", err
	}
	defer unix.Close(fd)
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return "", err
	}
	if a, ok := sa.(*unix.SockaddrInet4); ok {
		return netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port)).String(), nil
	}
	return "", fmt.Errorf("listener is not IPv4: %T", sa)
}

// stderrLogger keeps gnet's log off stdout, which carries the runner protocol,
// and drops its debug and info messages.
type stderrLogger struct{}

func (stderrLogger) Debugf(string, ...any)          {}
func (stderrLogger) Infof(string, ...any)           {}
func (stderrLogger) Warnf(f string, args ...any)    { fmt.Fprintf(os.Stderr, "gnet: "+f+"\n", args...) }
func (stderrLogger) Errorf(f string, args ...any)   { fmt.Fprintf(os.Stderr, "gnet: "+f+"\n", args...) }
func (l stderrLogger) Fatalf(f string, args ...any) { l.Errorf(f, args...); os.Exit(1) }

// runGnet serves with gnet v2: one event loop (multicore off: the server has one
// CPU), no SO_REUSEPORT, SO_REUSEADDR as the driver server has, gnet's defaults
// otherwise (level-triggered epoll, TCP_NODELAY, 64 KiB read buffer).
func runGnet(o options) error {
	e := &gnetEcho{addr: make(chan string, 1)}
	errc := make(chan error, 1)
	go func() {
		errc <- gnet.Run(e, "tcp4://"+o.addr,
			gnet.WithMulticore(false), gnet.WithReusePort(false), gnet.WithReuseAddr(true),
			gnet.WithLogger(stderrLogger{}))
	}()
	select {
	case addr := <-e.addr:
		onSignal(func() { _ = e.eng.Stop(context.Background()) })
		serveCommands(o.cpuprofile)
		ready(addr)
	case err := <-errc:
		return err
	}
	err := <-errc
	exitStats(map[string]any{"impl": "gnet"})
	return err
}

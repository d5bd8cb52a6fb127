package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/zokio/zokio/runtime"
	"github.com/zokio/zokio/runtime/driver"
	"github.com/zokio/zokio/runtime/znet"
)

func init() {
	commands = append(commands,
		command{"echo", "a TCP echo server on the runtime's event API", runEcho})
}

// serverFlags are the flags every demo server takes.
type serverFlags struct {
	addr   string
	loops  int
	driver string
	accept string
	share  bool // -reuseport: share the port with other servers (znet.Config.ReusePort)
}

func (f *serverFlags) register(fs *flag.FlagSet, defAddr string) {
	fs.StringVar(&f.addr, "addr", defAddr, "address to listen on, host:port (port 0: any free port)")
	fs.IntVar(&f.loops, "loops", 0, "event loops (default: one per CPU in the affinity mask)")
	fs.StringVar(&f.driver, "driver", "auto", "I/O driver: auto, uring, epoll, kqueue or iocp")
	fs.StringVar(&f.accept, "accept", "auto", "how connections spread across loops: auto, reuseport or handoff")
	fs.BoolVar(&f.share, "reuseport", false, "share the port with other servers that ask for it too (SO_REUSEPORT); without it an address in use is an error")
}

// start makes the runtime and the server the flags describe.
func (f *serverFlags) start(ctx context.Context, h znet.Handler) (*runtime.Runtime, *znet.Server, error) {
	kind, err := driver.ParseKind(f.driver)
	if err != nil {
		return nil, nil, err
	}
	var mode znet.AcceptMode
	switch f.accept {
	case "auto", "":
	case "reuseport":
		mode = znet.AcceptReusePort
	case "handoff":
		mode = znet.AcceptHandoff
	default:
		return nil, nil, fmt.Errorf("-accept=%q: want auto, reuseport or handoff", f.accept)
	}
	rt, err := runtime.New(runtime.Options{Loops: f.loops, Driver: kind})
	if err != nil {
		return nil, nil, err
	}
	srv, err := znet.Serve(ctx, rt, "tcp", f.addr, znet.Config{Handler: h, Accept: mode, ReusePort: f.share})
	if err != nil {
		_ = rt.Close(context.Background())
		if errors.Is(err, syscall.EADDRINUSE) {
			err = fmt.Errorf("%w (another server holds the port; -reuseport shares it with one that allows sharing)", err)
		}
		return nil, nil, err
	}
	return rt, srv, nil
}

// serve runs a demo server until ctx ends, announcing its address on stdout (and to
// ready, for tests), then closes it gracefully.
func serve(ctx context.Context, name string, f *serverFlags, h znet.Handler, stdout io.Writer, ready func(net.Addr)) error {
	rt, srv, err := f.start(ctx, h)
	if err != nil {
		return err
	}
	loops := "loops"
	if len(rt.Loops()) == 1 {
		loops = "loop"
	}
	fmt.Fprintf(stdout, "zokio %s: listening on %s (driver %s, %d %s); Ctrl-C stops\n",
		name, srv.Addr(), rt.Driver().Kind, len(rt.Loops()), loops)
	if ready != nil {
		ready(srv.Addr())
	}
	<-ctx.Done()
	stop, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = srv.Close(stop)
	if cerr := rt.Close(stop); err == nil {
		err = cerr
	}
	return err
}

// untilSignal returns a context that ends at SIGINT or SIGTERM.
func untilSignal() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

func runEcho(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("echo", flag.ContinueOnError)
	fs.SetOutput(stdout)
	var f serverFlags
	f.register(fs, "127.0.0.1:7000")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	ctx, stop := untilSignal()
	defer stop()
	return serve(ctx, "echo", &f, echoHandler{}, stdout, nil)
}

// echoHandler writes back what it reads. Its output cannot run away from a peer that
// does not read: past half of the connection's write-buffer limit the connection stops
// reading until the peer catches up (see znet.Conn.Write), so Write does not fail for
// an echo; if it ever did, the connection is closed rather than lose bytes silently.
type echoHandler struct{}

// OnOpen does nothing: an echo has nothing to say first.
func (echoHandler) OnOpen(*znet.Conn) {}

// OnData writes the bytes back without copying them: the received buffer itself
// joins the send queue (znet.Conn.WriteRetained, which copies below 2 KiB, where a
// copy is cheaper) and goes back to the loop's receive group once sent.
func (echoHandler) OnData(c *znet.Conn, b []byte) {
	r := c.Retain()
	if _, err := c.WriteRetained(&r); err != nil {
		r.Release()
		_ = c.Close()
	}
}

// OnClose does nothing: the connection holds no state.
func (echoHandler) OnClose(*znet.Conn, error) {}

package znet

import (
	"errors"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/zokio/zokio/runtime"
)

// countHandler counts the connections it opens, on the loop (read after Close).
type countHandler struct {
	echoHandler
	opened chan struct{}
}

func (h *countHandler) OnOpen(c *Conn) { h.opened <- struct{}{} }

func newCount() *countHandler {
	return &countHandler{echoHandler: *newEcho(), opened: make(chan struct{}, 1024)}
}

// TestServeAddressInUse: Serve on an address in use fails with EADDRINUSE, as Listen
// does, whoever holds it (issue 15, item 7); with Config.ReusePort on both servers
// both serve and the kernel spreads connections across them. A loop's sockets still
// share the port among themselves (AcceptReusePort with two loops).
func TestServeAddressInUse(t *testing.T) {
	for _, mode := range []AcceptMode{AcceptReusePort, AcceptHandoff} {
		forEachDriver(t, 2, func(t *testing.T, rt *runtime.Runtime) {
			first := serveOn(t, rt, "tcp", "127.0.0.1:0", newEcho(), Config{Accept: mode})
			addr := first.Addr().String()
			cfgs := []Config{{Accept: mode}, {Accept: AcceptReusePort}, {Accept: AcceptHandoff}}
			if mode == AcceptHandoff {
				// One socket without SO_REUSEPORT: not even a server that asks to
				// share gets in. (The sockets of an AcceptReusePort server carry
				// SO_REUSEPORT once bound, and one that asks may join them; see
				// Config.ReusePort.)
				cfgs = append(cfgs, Config{Accept: mode, ReusePort: true})
			}
			for _, cfg := range cfgs {
				cfg.Handler = newEcho()
				s, err := Serve(ctxT(t), rt, "tcp", addr, cfg)
				if err == nil {
					s.Close(ctxT(t))
					t.Fatalf("second Serve(%s, %+v) on a port held by a Server succeeded", addr, cfg)
				}
				if !errors.Is(err, syscall.EADDRINUSE) {
					t.Fatalf("second Serve(%s): %v, want EADDRINUSE", addr, err)
				}
			}
			if ln, err := Listen(ctxT(t), rt, "tcp", addr); err == nil {
				ln.Close()
				t.Fatalf("Listen on a port held by a Server succeeded")
			}
			// A port held by Go's net.Listen.
			std, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer std.Close()
			for _, share := range []bool{false, true} {
				s, err := Serve(ctxT(t), rt, "tcp", std.Addr().String(), Config{Handler: newEcho(), Accept: mode, ReusePort: share})
				if err == nil {
					s.Close(ctxT(t))
					t.Fatalf("Serve(ReusePort: %v) on a port held by net.Listen succeeded", share)
				}
				if !errors.Is(err, syscall.EADDRINUSE) {
					t.Fatalf("Serve on a port held by net.Listen: %v, want EADDRINUSE", err)
				}
			}
			// The first server still serves, on every loop of its own.
			c := dialStd(t, first)
			c.Write([]byte("still here"))
			got := make([]byte, 10)
			if _, err := io.ReadFull(c, got); err != nil || string(got) != "still here" { // echoes may come in pieces
				t.Fatalf("first server after the refused ones: %q, %v", got, err)
			}
			c.Close()
		})
	}
}

// TestServeReusePortShares: two Servers that both set ReusePort share one port, and
// connections reach both.
func TestServeReusePortShares(t *testing.T) {
	forEachDriver(t, 2, func(t *testing.T, rt *runtime.Runtime) {
		ha, hb := newCount(), newCount()
		a := serveOn(t, rt, "tcp", "127.0.0.1:0", ha, Config{ReusePort: true})
		b := serveOn(t, rt, "tcp", a.Addr().String(), hb, Config{ReusePort: true})
		if a.Addr().String() != b.Addr().String() {
			t.Fatalf("addresses %v and %v", a.Addr(), b.Addr())
		}
		// The kernel hashes each connection's addresses to one of the four sockets;
		// 64 connections all reaching one server has odds of 2^-63.
		const n = 64
		for i := 0; i < n; i++ {
			c := dialStd(t, a)
			c.Write([]byte{byte(i)})
			got := make([]byte, 1)
			if _, err := c.Read(got); err != nil || got[0] != byte(i) {
				t.Fatalf("connection %d: %v, %v", i, got, err)
			}
			c.Close()
		}
		if len(ha.opened) == 0 || len(hb.opened) == 0 || len(ha.opened)+len(hb.opened) != n {
			t.Fatalf("connections per server: %d and %d, want both > 0, %d in all", len(ha.opened), len(hb.opened), n)
		}
	})
}

package main

import (
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/zokio/zokio/runtime/driver"
)

// TestEchoAddressInUse: a second `zokio echo` on the port of a running one exits
// non-zero and says why (issue 15, item 7); with -reuseport on both, both serve. Linux's: Windows has no SO_REUSEPORT (Config.ReusePort
// is refused there with ErrUnsupported).
func TestEchoAddressInUse(t *testing.T) {
	addr := startServer(t, "echo", driver.Epoll, echoHandler{})
	done := make(chan struct{})
	var errs string
	var code int
	go func() {
		defer close(done)
		_, errs, code = runCmd(t, "echo", "-driver=epoll", "-loops=2", "-addr="+addr)
	}()
	select {
	case <-done:
	case <-time.After(deadline):
		t.Fatalf("a second echo server on %s is still running", addr)
	}
	if code == 0 || !strings.Contains(errs, "address already in use") || !strings.Contains(errs, "-reuseport") {
		t.Fatalf("second echo on %s: exit %d, stderr %q; want non-zero and EADDRINUSE explained", addr, code, errs)
	}

	// Both with -reuseport: the second starts and serves.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	first := &serverFlags{addr: "127.0.0.1:0", loops: 2, driver: "epoll", accept: "auto", share: true}
	ready := make(chan net.Addr, 1)
	served := make(chan error, 2)
	go func() {
		served <- serve(ctx, "echo", first, echoHandler{}, io.Discard, func(a net.Addr) { ready <- a })
	}()
	var shared net.Addr
	select {
	case shared = <-ready:
	case err := <-served:
		t.Fatalf("first -reuseport server: %v", err)
	}
	second := &serverFlags{addr: shared.String(), loops: 2, driver: "epoll", accept: "auto", share: true}
	go func() {
		served <- serve(ctx, "echo", second, echoHandler{}, io.Discard, func(a net.Addr) { ready <- a })
	}()
	select {
	case <-ready:
	case err := <-served:
		t.Fatalf("second -reuseport server on %s: %v", shared, err)
	}
	c := dial(t, shared.String())
	c.Write([]byte("ping"))
	got := make([]byte, 4)
	if _, err := io.ReadFull(c, got); err != nil || string(got) != "ping" {
		t.Fatalf("echo through the shared port: %q, %v", got, err)
	}
	cancel()
	for i := 0; i < 2; i++ {
		if err := <-served; err != nil {
			t.Errorf("-reuseport server: %v", err)
		}
	}
}

//go:build unix

package znet

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/zokio/zokio/internal/testkit"
	"github.com/zokio/zokio/runtime"
	"golang.org/x/sys/unix"
)

// TestDialUnixFullBacklogLikeNet: a Unix listener with a backlog of 0 whose queue is
// full (it never accepts) makes Go's net.Dial fail at once, with EAGAIN on Linux; Dial fails the same
// way, at once, on every driver. (The readiness core used to wait for the socket to
// turn writable, which an unconnected socket never does: epoll's Dial hung until its
// context ended, where io_uring's failed at once.)
func TestDialUnixFullBacklogLikeNet(t *testing.T) {
	requireUnix(t)
	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		path := filepath.Join(testkit.TempDir(t), "s")
		// net.Listen takes the system's maximum backlog; this one is as small as can be.
		lfd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(lfd)
		if err := unix.Bind(lfd, &unix.SockaddrUnix{Name: path}); err != nil {
			t.Fatal(err)
		}
		if err := unix.Listen(lfd, 0); err != nil {
			t.Fatal(err)
		}
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		var netErr error
		for i := 0; i < 64 && netErr == nil; i++ {
			c, err := net.DialTimeout("unix", path, time.Second)
			if err != nil {
				netErr = err
				break
			}
			held = append(held, c)
		}
		if netErr == nil {
			t.Skip("the backlog never filled: this system queues Unix connects without bound")
		}
		var want syscall.Errno
		if !errors.As(netErr, &want) {
			t.Skipf("net's dial failed without an errno (%v): nothing to compare", netErr)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		start := time.Now()
		c, err := Dial(ctx, rt, "unix", path)
		if err == nil {
			c.Close()
			t.Fatalf("Dial to a full backlog succeeded; net's failed with %v", netErr)
		}
		if !errors.Is(err, want) {
			t.Fatalf("Dial: %v, want %v as net's %v", err, want, netErr)
		}
		if ctx.Err() != nil {
			t.Fatalf("Dial waited %v for its context to end (%v) instead of failing at once", time.Since(start), err)
		}
		var oe *net.OpError
		if !errors.As(err, &oe) || oe.Op != "dial" {
			t.Fatalf("Dial: %#v, want a *net.OpError for dial", err)
		}
	})
}

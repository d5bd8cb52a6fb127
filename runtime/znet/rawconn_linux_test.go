package znet

import (
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/zokio/zokio/runtime"
)

// TestRawConnReadWrite: SyscallConn's Read runs f, and when f finds nothing to read
// waits for readability through the driver before running it again (no busy loop:
// f runs a bounded number of times); bytes NetConn read ahead before are still
// Read's, then raw reads take the rest; Write likewise; a deadline ends a raw wait.
func TestRawConnReadWrite(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		ln := listenT(t, rt, "tcp", "127.0.0.1:0")
		acc := acceptT(t, ln)
		c := dialT(t, rt, "tcp", ln.Addr().String())
		peer := acceptedT(t, acc)
		peer.SetDeadline(time.Now().Add(testDeadline))
		c.SetDeadline(time.Now().Add(testDeadline))
		if _, err := peer.Write([]byte("first")); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 3)
		if n, err := c.Read(buf); err != nil || string(buf[:n]) != "fir" {
			t.Fatalf("Read: %q %v", buf[:n], err)
		}
		rc, err := c.SyscallConn()
		if err != nil {
			t.Fatal(err)
		}
		calls := 0
		var got []byte
		empty := make(chan struct{})
		wrote := make(chan struct{})
		go func() {
			defer close(wrote)
			<-empty // the raw Read found nothing: it waits for what comes now
			peer.Write([]byte("raw"))
		}()
		err = rc.Read(func(fd uintptr) bool {
			calls++
			b := make([]byte, 16)
			n, err := unix.Read(int(fd), b)
			if err == unix.EAGAIN {
				if calls == 1 {
					close(empty)
				}
				return false
			}
			got = append(got, b[:max(n, 0)]...)
			return true
		})
		<-wrote
		if err != nil || string(got) != "raw" || calls < 2 {
			t.Fatalf("raw Read: %q, %v, after %d calls", got, err, calls)
		}
		if calls > 4 {
			t.Errorf("f ran %d times for one arrival: the wait polls", calls)
		}
		if n, err := c.Read(buf); err != nil || string(buf[:n]) != "st" {
			t.Fatalf("Read after the raw one: %q %v, want the read-ahead \"st\"", buf[:n], err)
		}
		if _, err := peer.Write([]byte("next")); err != nil {
			t.Fatal(err)
		}
		buf = make([]byte, 8)
		if n, err := c.Read(buf); err != nil || string(buf[:n]) != "next" {
			t.Fatalf("Read with single ops: %q %v", buf[:n], err)
		}
		if err := rc.Write(func(fd uintptr) bool {
			_, err := unix.Write(int(fd), []byte("out"))
			return err != unix.EAGAIN
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(peer, buf[:3]); err != nil || string(buf[:3]) != "out" {
			t.Fatalf("peer read %q %v", buf[:3], err)
		}
		c.SetReadDeadline(time.Now().Add(30 * time.Millisecond))
		err = rc.Read(func(fd uintptr) bool { return false })
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("raw Read past the deadline: %v", err)
		}
		var fdSeen int
		if err := rc.Control(func(fd uintptr) { fdSeen = int(fd) }); err != nil || fdSeen != c.fd {
			t.Errorf("Control: fd %d, %v", fdSeen, err)
		}
		c.Close()
		if err := rc.Control(func(uintptr) {}); !errors.Is(err, net.ErrClosed) {
			t.Errorf("Control after Close: %v", err)
		}
		if _, err := c.SyscallConn(); !errors.Is(err, net.ErrClosed) {
			t.Errorf("SyscallConn after Close: %v", err)
		}
	})
}

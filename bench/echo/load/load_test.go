//go:build linux

package main

import (
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// TestMain fails the run if a test leaves a goroutine behind.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testServer runs a goroutine-per-connection server whose connections are
// handled by serve; it returns the address and a function that stops it.
func testServer(t *testing.T, serve func(c net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				serve(c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
	})
	return ln.Addr().String()
}

// echoUntil echoes until the connection ends, passing every chunk through edit
// with the offset of its first byte in the stream; edit returns false to hang up.
func echoUntil(c net.Conn, edit func(off int, b []byte) bool) {
	buf := make([]byte, 4096)
	off := 0
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if !edit(off, buf[:n]) {
				return
			}
			off += n
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func shortRun(addr string) options {
	return options{addr: addr, conns: 20, size: 64, pipeline: 4, threads: 2,
		warmup: 50 * time.Millisecond, duration: 200 * time.Millisecond}
}

// TestMeasureCorrectServer: a correct echo gives replies on every connection
// and no errors.
func TestMeasureCorrectServer(t *testing.T) {
	addr := testServer(t, func(c net.Conn) { echoUntil(c, func(int, []byte) bool { return true }) })
	res, err := measure(shortRun(addr), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors != 0 || res.Msgs == 0 || res.MinConnMsgs == 0 || res.LatencyNs.P50 <= 0 {
		t.Fatalf("result %+v: want replies on every connection and no errors", res)
	}
}

// TestMeasureCatchesBrokenServers: a server that flips one byte, or drops a
// connection, produces errors, however fast it is.
func TestMeasureCatchesBrokenServers(t *testing.T) {
	const at = 5*64 + 20 // a payload byte of each connection's sixth message
	for _, tc := range []struct {
		name, want string
		edit       func(off int, b []byte) bool
	}{
		{"corrupt", "payload differs", func(off int, b []byte) bool {
			if off <= at && at < off+len(b) {
				b[at-off] ^= 1
			}
			return true
		}},
		{"hang-up", "conn", func(off int, b []byte) bool { return off+len(b) < at }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := testServer(t, func(c net.Conn) { echoUntil(c, tc.edit) })
			res, err := measure(shortRun(addr), io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if res.Errors != 20 || !strings.Contains(res.FirstError, tc.want) {
				t.Fatalf("errors %d (%q): want one per connection, mentioning %q", res.Errors, res.FirstError, tc.want)
			}
		})
	}
}

// TestMeasureFixedRate: at a rate the server easily sustains, the generator
// delivers it (within a few percent) and the schedule does not fall behind.
func TestMeasureFixedRate(t *testing.T) {
	addr := testServer(t, func(c net.Conn) { echoUntil(c, func(int, []byte) bool { return true }) })
	o := shortRun(addr)
	o.rate = 5000
	res, err := measure(o, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	got := float64(res.Msgs) / (float64(res.WindowNs) / 1e9)
	if res.Errors != 0 || got < 0.8*o.rate || got > 1.2*o.rate {
		t.Fatalf("result %+v: %.0f msgs/s, want about %.0f", res, got, o.rate)
	}
}

//go:build linux

package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
	"golang.org/x/sys/unix"

	"github.com/zokio/zokio/bench/echo/cref"
	"github.com/zokio/zokio/bench/echo/driverecho"
	"github.com/zokio/zokio/bench/echo/tokio"
	"github.com/zokio/zokio/poller"
	"github.com/zokio/zokio/uring"
)

// TestMain fails the run if a test leaves a goroutine behind.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

type driverCase struct {
	name string
	new  func() (poller.Driver, error)
}

var testDrivers = []driverCase{
	{"uring", func() (poller.Driver, error) { return uring.NewDriver(uring.DriverConfig{}) }},
	{"epoll", func() (poller.Driver, error) { return poller.NewEpoll(poller.EpollConfig{}) }},
}

// testServer is a driverecho server running in this process, on a goroutine of
// its own that owns the driver.
type testServer struct {
	addr  string
	srv   *driverecho.Server
	done  chan struct{}
	err   error
	stats driverecho.Stats
}

// startServer starts a server on a new driver. A driver that cannot be created
// here (io_uring forbidden, say) skips the test with the reason.
func startServer(t *testing.T, dc driverCase, cfg driverecho.Config) *testServer {
	t.Helper()
	lfd, addr, err := driverecho.Listen("127.0.0.1:0", 4096)
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{addr: addr, done: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		defer close(ts.done)
		defer unix.Close(lfd)
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		d, err := dc.new()
		if err != nil {
			started <- errSkip{err}
			return
		}
		defer d.Close()
		srv, err := driverecho.New(d, lfd, cfg)
		if err != nil {
			started <- err
			return
		}
		ts.srv = srv
		started <- nil
		ts.err = srv.Serve()
		ts.stats = srv.Stats()
	}()
	if err := <-started; err != nil {
		<-ts.done
		var skip errSkip
		if errors.As(err, &skip) {
			t.Skipf("%s driver unavailable: %v", dc.name, skip.err)
		}
		t.Fatal(err)
	}
	return ts
}

type errSkip struct{ err error }

func (e errSkip) Error() string { return e.err.Error() }

// stop ends Serve and waits for the server goroutine; it fails t on a Serve error.
func (ts *testServer) stop(t *testing.T) driverecho.Stats {
	t.Helper()
	ts.srv.Stop()
	<-ts.done
	if ts.err != nil {
		t.Errorf("Serve: %v", ts.err)
	}
	return ts.stats
}

// TestDriverEcho sends a few hundred messages of random sizes per connection,
// from 1 byte to several receive buffers, pipelined (the writer never waits for
// replies), on several connections at once, then half-closes; everything must
// come back byte for byte, followed by EOF. Small buffers and a small group make
// every message span buffers and let the group run dry (ENOBUFS re-arms).
func TestDriverEcho(t *testing.T) {
	for _, dc := range testDrivers {
		t.Run(dc.name, func(t *testing.T) {
			cfg := driverecho.Config{Buffers: 16, BufferSize: 512, MaxPending: 4096}
			ts := startServer(t, dc, cfg)
			var wg sync.WaitGroup
			errs := make(chan error, 8)
			for i := range 8 {
				wg.Go(func() { errs <- echoRoundTrips(ts.addr, uint64(i), 300, 3*cfg.BufferSize) })
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Error(err)
				}
			}
			st := ts.stop(t)
			t.Logf("%s: %+v", dc.name, st)
			if st.Accepted != 8 || st.Closed != 8 || st.BytesIn != st.BytesOut {
				t.Errorf("stats %+v: want 8 accepted and closed, bytes in = bytes out", st)
			}
		})
	}
}

// echoRoundTrips writes n messages of 1..maxSize random bytes on one connection
// while a second goroutine reads the echo, then half-closes and checks that the
// echo is exact and ends with EOF.
func echoRoundTrips(addr string, seed uint64, n, maxSize int) error {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(time.Minute)); err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(seed, 42))
	var sent bytes.Buffer
	for i := range n {
		size := 1 + rng.IntN(maxSize)
		if i%50 == 49 {
			size = 64 << 10 // now and then much more than the group holds
		}
		for range size {
			sent.WriteByte(byte(rng.Uint32()))
		}
	}
	want := sent.Bytes()
	got := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(c)
		got <- b
	}()
	rest := want
	for len(rest) > 0 {
		k := min(len(rest), 1+rng.IntN(maxSize))
		if _, err := c.Write(rest[:k]); err != nil {
			return err
		}
		rest = rest[k:]
	}
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		return err
	}
	b := <-got
	if !bytes.Equal(b, want) {
		i := 0
		for i < len(b) && i < len(want) && b[i] == want[i] {
			i++
		}
		return fmt.Errorf("conn %d: echoed %d bytes, sent %d; first difference at byte %d", seed, len(b), len(want), i)
	}
	return nil
}

// TestDriverEchoPeerReset closes connections with a reset in the middle of a
// stream; the server must close them and stay healthy for the next client.
func TestDriverEchoPeerReset(t *testing.T) {
	for _, dc := range testDrivers {
		t.Run(dc.name, func(t *testing.T) {
			ts := startServer(t, dc, driverecho.Config{})
			resetMidStream(t, ts.addr, 20)
			st := ts.stop(t)
			if st.Accepted != 21 || st.Closed != 21 {
				t.Errorf("stats %+v: want 21 accepted and closed", st)
			}
		})
	}
}

// resetMidStream opens n connections to addr, each sending 100 KiB and closing with
// a reset without reading the echo, then checks that a new client is still served.
func resetMidStream(t *testing.T, addr string, n int) {
	t.Helper()
	for range n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Write(make([]byte, 100<<10)); err != nil {
			t.Fatal(err)
		}
		_ = c.(*net.TCPConn).SetLinger(0)
		c.Close()
	}
	if err := echoRoundTrips(addr, 1, 50, 4096); err != nil {
		t.Error(err)
	}
}

// TestDriverEchoAllocs checks that the server allocates nothing per message in
// steady state: 2000 round trips of 64 bytes through a raw blocking socket (which
// allocates nothing itself) after a warm-up, counting the whole process's mallocs.
func TestDriverEchoAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	for _, dc := range testDrivers {
		t.Run(dc.name, func(t *testing.T) {
			ts := startServer(t, dc, driverecho.Config{})
			defer ts.stop(t)
			fd, err := dialRaw(ts.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer unix.Close(fd)
			msg, reply := make([]byte, 64), make([]byte, 64)
			roundTrip := func() error {
				if _, err := unix.Write(fd, msg); err != nil {
					return err
				}
				for got := 0; got < len(reply); {
					n, err := unix.Read(fd, reply[got:])
					if err != nil || n == 0 {
						return fmt.Errorf("read: %d, %v", n, err)
					}
					got += n
				}
				return nil
			}
			for range 1000 {
				if err := roundTrip(); err != nil {
					t.Fatal(err)
				}
			}
			const n = 2000
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			for range n {
				if err := roundTrip(); err != nil {
					t.Fatal(err)
				}
			}
			runtime.ReadMemStats(&m1)
			mallocs := m1.Mallocs - m0.Mallocs
			t.Logf("%s: %d mallocs in %d round trips", dc.name, mallocs, n)
			if mallocs > n/100 {
				t.Errorf("%d mallocs in %d round trips: the server allocates per message", mallocs, n)
			}
		})
	}
}

// dialRaw connects a blocking socket to addr ("127.0.0.1:port").
func dialRaw(addr string) (int, error) {
	ta, err := net.ResolveTCPAddr("tcp4", addr)
	if err != nil {
		return -1, err
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	sa := &unix.SockaddrInet4{Port: ta.Port}
	copy(sa.Addr[:], ta.IP.To4())
	if err := unix.Connect(fd, sa); err != nil {
		unix.Close(fd)
		return -1, err
	}
	_ = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	return fd, nil
}

// crefServer is a C reference server (package cref) running as a child process,
// driven over the runner's protocol.
type crefServer struct {
	addr   string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan string // stdout, line by line; closed at EOF
	stderr bytes.Buffer
	done   bool // waited for
}

// crefStats is the part of a C server's "stats" line the tests check.
type crefStats struct {
	Accepted  uint64 `json:"accepted"`
	Closed    uint64 `json:"closed"`
	OpenConns uint64 `json:"open_conns"`
	BytesIn   uint64 `json:"bytes_in"`
	BytesOut  uint64 `json:"bytes_out"`
	ENOBUFS   uint64 `json:"enobufs"`
	Pauses    uint64 `json:"pauses"`
}

// startCRef builds C reference name and starts it with args after its listen
// address. It skips the test where gcc or liburing is not installed, or where
// the server cannot set io_uring up (its exit status 2).
func startCRef(t *testing.T, name string, args ...string) *crefServer {
	t.Helper()
	path, err := cref.Build(name)
	if missing := (*cref.MissingError)(nil); errors.As(err, &missing) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return startChild(t, name, path, args...)
}

// startChild starts the server program at path with args after its listen
// address, and reads its "ready" line.
func startChild(t *testing.T, name, path string, args ...string) *crefServer {
	t.Helper()
	var err error
	s := &crefServer{lines: make(chan string, 16)}
	s.cmd = exec.Command(path, append([]string{"-a", "127.0.0.1:0"}, args...)...)
	s.cmd.Stderr = &s.stderr
	if s.stdin, err = s.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	out, err := s.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			s.lines <- sc.Text()
		}
		close(s.lines)
	}()
	t.Cleanup(func() {
		if !s.done {
			_ = s.cmd.Process.Kill()
			s.wait()
		}
	})
	line := s.next(t)
	if line == "" {
		err := s.wait()
		if ee := (*exec.ExitError)(nil); errors.As(err, &ee) && ee.ExitCode() == 2 {
			t.Skipf("%s: io_uring unavailable: %s", name, strings.TrimSpace(s.stderr.String()))
		}
		t.Fatalf("%s exited before it was ready (%v): %s", name, err, s.stderr.String())
	}
	addr, ok := strings.CutPrefix(line, "ready ")
	if !ok {
		t.Fatalf("%s: first line %q, want \"ready <addr>\"", name, line)
	}
	s.addr = addr
	return s
}

// next returns the server's next stdout line, "" at EOF; it fails t after ten
// seconds without one.
func (s *crefServer) next(t *testing.T) string {
	t.Helper()
	select {
	case line := <-s.lines:
		return line
	case <-time.After(10 * time.Second):
		t.Fatal("no output from the server for 10s")
		return ""
	}
}

// wait drains stdout and reaps the process.
func (s *crefServer) wait() error {
	s.done = true
	s.stdin.Close()
	for range s.lines {
	}
	return s.cmd.Wait()
}

// mark asks for the marks the runner reads, and returns the kernel enters; the
// allocation count must be 0 (not counted, which the runner shows as n/a).
func (s *crefServer) mark(t *testing.T) int64 {
	t.Helper()
	if _, err := io.WriteString(s.stdin, "mark\n"); err != nil {
		t.Fatal(err)
	}
	line := s.next(t)
	f := strings.Fields(line)
	if len(f) != 3 || f[0] != "mark" || f[1] != "0" {
		t.Fatalf("mark answered %q, want \"mark 0 <enters>\"", line)
	}
	enters, err := strconv.ParseInt(f[2], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return enters
}

// stop sends SIGTERM, as the runner does, and returns the final stats; the
// server must exit with status 0.
func (s *crefServer) stop(t *testing.T) crefStats {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var st crefStats
	line := s.next(t)
	js, ok := strings.CutPrefix(line, "stats ")
	if !ok {
		t.Errorf("after SIGTERM: %q, want \"stats <json>\"", line)
	} else if err := json.Unmarshal([]byte(js), &st); err != nil {
		t.Errorf("stats %s: %v", js, err)
	}
	if err := s.wait(); err != nil {
		t.Errorf("exit: %v; stderr: %s", err, s.stderr.String())
	}
	return st
}

// crefCases are the C reference servers under test; c-uring runs with 16
// buffers of 512 bytes, so that messages span buffers and the ring runs dry
// (-ENOBUFS re-arms).
var crefCases = []struct {
	name string
	args []string
}{
	{"c-uring", []string{"-b", "16", "-s", "512"}},
	{"c-epoll", nil},
}

// TestCRefEcho puts the C reference servers (package cref) through the check of
// TestDriverEcho: pipelined messages of random sizes on 8 connections at once,
// echoed byte for byte up to EOF. It also checks the runner's protocol: "mark",
// and "stats" after SIGTERM. It skips where gcc or liburing is not installed.
func TestCRefEcho(t *testing.T) {
	for _, tc := range crefCases {
		t.Run(tc.name, func(t *testing.T) {
			s := startCRef(t, tc.name, tc.args...)
			var wg sync.WaitGroup
			errs := make(chan error, 8)
			for i := range 8 {
				wg.Go(func() { errs <- echoRoundTrips(s.addr, uint64(i), 300, 3*512) })
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Error(err)
				}
			}
			if enters := s.mark(t); enters < 1 {
				t.Errorf("mark: %d kernel enters, want some", enters)
			}
			st := s.stop(t)
			t.Logf("%s: %+v", tc.name, st)
			if st.Accepted != 8 || st.Closed != 8 || st.OpenConns != 0 || st.BytesIn != st.BytesOut {
				t.Errorf("stats %+v: want 8 accepted and closed, none open, bytes in = bytes out", st)
			}
			if tc.name == "c-uring" && st.ENOBUFS == 0 {
				t.Errorf("stats %+v: the 16 buffers never ran out; the test meant them to", st)
			}
		})
	}
}

// TestCRefEchoPeerReset is TestDriverEchoPeerReset for the C reference servers:
// connections reset in the middle of a stream must be closed, and the server
// must stay healthy for the next client.
func TestCRefEchoPeerReset(t *testing.T) {
	for _, tc := range crefCases {
		t.Run(tc.name, func(t *testing.T) {
			s := startCRef(t, tc.name, tc.args...)
			resetMidStream(t, s.addr, 20)
			st := s.stop(t)
			if st.Accepted != 21 || st.Closed != 21 || st.OpenConns != 0 {
				t.Errorf("stats %+v: want 21 accepted and closed, none open", st)
			}
		})
	}
}

// TestCRefEchoSlowReader streams 8 MiB on each of 4 connections at once while
// the client reads the connections one after the other, so the echo of the ones
// not being read backs up (short sends, queued echo; no timed wait needed), and
// c-uring, which holds received buffers until they are sent, must pause the
// recvs of the connections not being read rather than lend them all its
// buffers, or the connection being read would starve.
func TestCRefEchoSlowReader(t *testing.T) {
	for _, name := range []string{"c-uring", "c-epoll"} {
		t.Run(name, func(t *testing.T) {
			s := startCRef(t, name)
			want := make([]byte, 8<<20)
			rng := rand.New(rand.NewPCG(7, 42))
			for i := range want {
				want[i] = byte(rng.Uint32())
			}
			var conns []net.Conn
			for range 4 {
				c, err := net.Dial("tcp", s.addr)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				if err := c.SetDeadline(time.Now().Add(time.Minute)); err != nil {
					t.Fatal(err)
				}
				conns = append(conns, c)
			}
			var wg sync.WaitGroup
			errs := make(chan error, len(conns))
			for _, c := range conns {
				wg.Go(func() {
					_, err := c.Write(want)
					if err == nil {
						err = c.(*net.TCPConn).CloseWrite()
					}
					errs <- err
				})
			}
			for i, c := range conns {
				got, err := io.ReadAll(c)
				if err != nil || !bytes.Equal(got, want) {
					t.Errorf("conn %d: echoed %d bytes (%v), want the %d sent back", i, len(got), err, len(want))
				}
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Error(err)
				}
			}
			st := s.stop(t)
			t.Logf("%s: %+v", name, st)
			if st.Closed != 4 || st.BytesIn != st.BytesOut {
				t.Errorf("stats %+v: want 4 closed, bytes in = bytes out", st)
			}
			if name == "c-uring" && st.Pauses == 0 {
				t.Errorf("stats %+v: no recv was paused", st)
			}
		})
	}
}

// tokioStats is the Tokio server's "stats" line.
type tokioStats struct {
	Flavor     string `json:"flavor"`
	Workers    int    `json:"workers"`
	Accepted   uint64 `json:"accepted"`
	Closed     uint64 `json:"closed"`
	OpenConns  int64  `json:"open_conns"`
	ConnErrors uint64 `json:"conn_errors"`
}

// TestTokioEcho puts the Tokio server (package tokio), on both runtimes the
// contenders run, through TestCRefEcho's check: pipelined messages of random
// sizes on 8 connections at once, echoed byte for byte up to EOF, then "mark"
// and "stats" after SIGTERM; and a burst of connections reset mid-stream, after
// which it must still serve. It skips where cargo or Tokio's packaged crates are
// missing (and under -short: the first build takes cargo minutes).
func TestTokioEcho(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: building Tokio takes cargo minutes on a loaded machine")
	}
	path, err := tokio.Build()
	if missing := (*tokio.MissingError)(nil); errors.As(err, &missing) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []int{0, 2} {
		t.Run("workers="+strconv.Itoa(w), func(t *testing.T) {
			s := startChild(t, "tokio", path, "-w", strconv.Itoa(w))
			var wg sync.WaitGroup
			errs := make(chan error, 8)
			for i := range 8 {
				wg.Go(func() { errs <- echoRoundTrips(s.addr, uint64(i), 300, 8192) })
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Error(err)
				}
			}
			resetMidStream(t, s.addr, 5)
			if _, err := io.WriteString(s.stdin, "mark\n"); err != nil {
				t.Fatal(err)
			}
			if line := s.next(t); line != "mark 0" {
				t.Errorf("mark answered %q, want \"mark 0\"", line)
			}
			if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			line := s.next(t)
			js, ok := strings.CutPrefix(line, "stats ")
			var st tokioStats
			if !ok {
				t.Fatalf("after SIGTERM: %q, want \"stats <json>\"", line)
			}
			if err := json.Unmarshal([]byte(js), &st); err != nil {
				t.Fatalf("stats %s: %v", js, err)
			}
			if err := s.wait(); err != nil {
				t.Errorf("exit: %v; stderr: %s", err, s.stderr.String())
			}
			t.Logf("%+v", st)
			// 8 + 5 reset + resetMidStream's check. Every connection whose EOF the
			// client saw is closed; a reset one may still be on its way out.
			if st.Workers != w || st.Accepted != 14 || st.Closed < 9 || int64(st.Closed)+st.OpenConns != 14 {
				t.Errorf("stats %+v: want %d workers, 14 accepted, at least 9 closed and the rest open", st, w)
			}
		})
	}
}

package znet

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/zokio/zokio/internal/testkit"
	"github.com/zokio/zokio/runtime"
	"github.com/zokio/zokio/runtime/driver"
)

// arenaCounter is an echo that counts its connections' zero-copy sends, all and from
// registered arena buffers.
type arenaCounter struct {
	echoHandler
	zsends, zfixed atomic.Uint64
}

func (h *arenaCounter) OnClose(c *Conn, err error) {
	h.zsends.Add(uint64(c.zsends))
	h.zfixed.Add(uint64(c.zfixed))
	h.echoHandler.OnClose(c, err)
}

// TestSendArena runs checksummed echo streams through a server whose output buffers
// come from a registered send arena, with SEND_ZC from 1 KiB up (loopback allowed):
// on io_uring zero-copy sends pass arena buffers as fixed buffers and the data holds;
// on epoll the arena serves unregistered and SendArenaErr says why. Messages up to
// 100 KB outgrow the 64 KiB arena buffers (the bytes move to the heap), and an arena
// of 4 buffers for 8 streams runs dry (connections fall back to heap buffers).
func TestSendArena(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		h := &arenaCounter{echoHandler: *newEcho()}
		s := serveEcho(t, rt, h, Config{SendArena: 4, SendZCThreshold: 1024, SendZCLocal: true})
		kind := rt.Driver().Kind
		err := s.SendArenaErr()
		if kind == driver.Epoll && !errors.Is(err, errors.ErrUnsupported) {
			t.Fatalf("epoll: SendArenaErr = %v, want errors.ErrUnsupported", err)
		}
		if kind == driver.Uring && err != nil {
			t.Logf("send arena not registered: %v", err)
		}
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := dialStd(t, s)
				defer c.Close()
				oracleStream(t, c, uint64(i), 60, 100000)
			}()
		}
		wg.Wait()
		for range 8 {
			recvErr(t, h.closed)
		}
		t.Logf("%s: %d zero-copy sends, %d from registered arena buffers", kind, h.zsends.Load(), h.zfixed.Load())
		if kind == driver.Uring && err == nil && h.zfixed.Load() == 0 {
			t.Error("no zero-copy send used a registered arena buffer")
		}
		if kind == driver.Epoll && h.zfixed.Load() != 0 {
			t.Error("epoll made registered-buffer sends")
		}
		var held int
		var closed bool
		l := rt.Loops()[0]
		l.Call(ctxT(t), func() {
			sa := s.loops[0].sa
			held, closed = sa.held, sa.a == nil
		})
		if held != 0 || closed {
			t.Errorf("with the server open and no connection: %d arena buffers held (want 0), closed %v (want false)", held, closed)
		}
		if err := s.Close(ctxT(t)); err != nil {
			t.Fatal(err)
		}
		l.Call(ctxT(t), func() { closed = s.loops[0].sa.a == nil })
		if !closed {
			t.Error("the send arena outlived its server")
		}
	})
}

// holder keeps one arena buffer in flight: its socket's send buffer is tiny and the
// peer never reads, so the one 60 KiB write it makes on the first OnData cannot leave.
type holder struct {
	echoHandler
	held chan int
}

func (h *holder) OnOpen(c *Conn) {
	_ = unix.SetsockoptInt(c.fd, unix.SOL_SOCKET, unix.SO_SNDBUF, 4096)
}

func (h *holder) OnData(c *Conn, b []byte) {
	c.Write(make([]byte, 60<<10))
	// Posted: runs after this callback's flush has submitted the send.
	c.Loop().Post(func() { h.held <- c.sa.held })
}

// TestSendArenaRuntimeClose closes the runtime under a server whose connection holds
// an arena buffer in a send that cannot complete: the close cancels the send and the
// arena is closed once the buffer is back.
func TestSendArenaRuntimeClose(t *testing.T) {
	for _, kind := range testkit.Drivers(t) {
		t.Run(string(kind), func(t *testing.T) {
			rt := newRuntime(t, kind, 1)
			h := &holder{echoHandler: *newEcho(), held: make(chan int, 1)}
			cfg := Config{Handler: h, SendArena: 8, FlushTimeout: 10 * time.Millisecond}
			s, err := Serve(ctxT(t), rt, "tcp", "127.0.0.1:0", cfg)
			if err != nil {
				t.Fatal(err)
			}
			// A receive buffer this small from the start: the window it advertises
			// cannot take the 60 KiB.
			d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
				return rc.Control(func(fd uintptr) {
					_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, 4096)
				})
			}}
			c, err := d.DialContext(ctxT(t), "tcp", s.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.Write([]byte("go"))
			select {
			case n := <-h.held:
				if n != 1 {
					t.Fatalf("%d arena buffers held by the stuck send, want 1", n)
				}
			case <-time.After(testDeadline):
				t.Fatalf("no report\n%s", hung())
			}
			if err := rt.Close(ctxT(t)); err != nil {
				t.Fatal(err)
			}
			sl := s.loops[0]
			if sl.sa.held != 0 || sl.sa.a != nil {
				t.Errorf("after the runtime closed: %d arena buffers held, arena closed %v", sl.sa.held, sl.sa.a == nil)
			}
		})
	}
}

// arenaMappings counts the mappings in /proc/self/maps of exactly size bytes.
func arenaMappings(t *testing.T, size uintptr) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Skipf("no /proc/self/maps: %v", err)
	}
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		var lo, hi uintptr
		if _, err := fmt.Sscanf(line, "%x-%x", &lo, &hi); err == nil && hi-lo == size {
			n++
		}
	}
	return n
}

// TestSendArenaServeRacingClose closes runtimes while servers with send arenas are
// being set up on them, so that some set-ups find their loops refusing work halfway:
// no arena mapping outlives its runtime.
func TestSendArenaServeRacingClose(t *testing.T) {
	const count = 3 // an arena of 3 × 64 KiB: a mapping size nothing else here has
	size := uintptr(count * sendArenaBuf)
	before := arenaMappings(t, size)
	for _, kind := range testkit.Drivers(t) {
		for i := range 20 {
			rt, err := runtime.New(runtime.Options{Loops: 2, Driver: kind, NoPin: true})
			if err != nil {
				t.Fatal(err)
			}
			served := make(chan *Server, 1)
			go func() {
				s, err := Serve(context.Background(), rt, "tcp", "127.0.0.1:0",
					Config{Handler: newEcho(), SendArena: count})
				if err != nil {
					s = nil
				}
				served <- s
			}()
			if i%2 == 1 {
				<-served // half the time, close after Serve returned
			}
			if err := rt.Close(ctxT(t)); err != nil {
				t.Fatal(err)
			}
			if i%2 == 0 {
				<-served
			}
		}
	}
	if after := arenaMappings(t, size); after != before {
		t.Errorf("%d send-arena mappings before, %d after closing every runtime", before, after)
	}
}

package znet

import (
	"bytes"
	"errors"
	"io"
	"net"
	goruntime "runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zokio/zokio/internal/testkit"

	"github.com/zokio/zokio/runtime"
)

// flooder writes to its connection for as long as it may: it reacts to
// ErrWriteBufferFull by waiting for OnWritable, and records the largest output it
// ever saw buffered.
type flooder struct {
	echoHandler
	chunk    []byte
	full     atomic.Int64 // Writes refused with ErrWriteBufferFull
	writable atomic.Int64 // OnWritable calls
	maxBuf   atomic.Int64
	wrote    atomic.Int64
	refused  chan struct{} // one send per connection, at its first refused Write
}

func (h *flooder) OnOpen(c *Conn) { h.pump(c) }

func (h *flooder) OnWritable(c *Conn) {
	h.writable.Add(1)
	h.pump(c)
}

func (h *flooder) pump(c *Conn) {
	for {
		_, err := c.Write(h.chunk)
		if b := int64(c.Buffered()); b > h.maxBuf.Load() {
			h.maxBuf.Store(b)
		}
		if errors.Is(err, ErrWriteBufferFull) {
			h.full.Add(1)
			if c.Context() == nil {
				c.SetContext(true)
				h.refused <- struct{}{}
			}
			return
		}
		if err != nil {
			return
		}
		h.wrote.Add(int64(len(h.chunk)))
	}
}

// TestBackpressureNeverReadingPeer has the server write without end to a peer that
// reads nothing: the output stays within WriteBufferLimit, Write reports
// ErrWriteBufferFull, the heap does not grow, and once the peer reads, OnWritable
// fires and everything written arrives in order.
func TestBackpressureNeverReadingPeer(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		const limit, peers = 256 << 10, 8
		h := &flooder{echoHandler: *newEcho(), chunk: bytes.Repeat([]byte("0123456789abcdef"), 256), refused: make(chan struct{}, 16)}
		s := serveEcho(t, rt, h, Config{WriteBufferLimit: limit})
		flood := func() net.Conn {
			c := dialStd(t, s)
			select {
			case <-h.refused:
			case <-time.After(testDeadline):
				t.Fatalf("Write never reported ErrWriteBufferFull\n%s", hung())
			}
			return c
		}
		// A first flood warms up what is allocated once (driver tables, queues).
		flood().Close()
		recvErr(t, h.closed)
		var ms goruntime.MemStats
		goruntime.GC()
		goruntime.ReadMemStats(&ms)
		heap0 := ms.HeapAlloc
		var cs []net.Conn
		for i := 0; i < peers; i++ {
			cs = append(cs, flood())
			defer cs[i].Close()
		}
		goruntime.GC()
		goruntime.ReadMemStats(&ms)
		// Each connection holds at most two send buffers of up to the limit (the one
		// in flight and the next); the loop may still be swapping them while the heap
		// is read.
		if grown := int64(ms.HeapAlloc) - int64(heap0); grown > peers*3*limit {
			t.Errorf("heap grew by %d bytes for %d peers at a %d-byte limit", grown, peers, limit)
		}
		if m := h.maxBuf.Load(); m > limit {
			t.Errorf("buffered output reached %d bytes, limit %d", m, limit)
		}
		// Now read: OnWritable keeps the flood going, in order.
		c := cs[0]
		buf := make([]byte, 1<<20)
		want := int64(8 << 20)
		var got int64
		for got < want {
			n, err := c.Read(buf)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < n; i++ {
				if buf[i] != h.chunk[(got+int64(i))%int64(len(h.chunk))] {
					t.Fatalf("byte %d out of order", got+int64(i))
				}
			}
			got += int64(n)
		}
		if h.writable.Load() == 0 {
			t.Error("OnWritable never fired")
		}
		if m := h.maxBuf.Load(); m > limit {
			t.Errorf("buffered output reached %d bytes, limit %d", m, limit)
		}
	})
}

// TestBackpressurePausesReading has an echo server face a peer that sends without
// reading: the server stops reading at half the limit instead of buffering, and
// after the peer drains, every byte comes back in order.
func TestBackpressurePausesReading(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		const limit = 128 << 10
		var maxBuf atomic.Int64
		h := &watchEcho{echoHandler: *newEcho(), max: &maxBuf}
		s := serveEcho(t, rt, h, Config{WriteBufferLimit: limit})
		c := dialStd(t, s)
		defer c.Close()
		total := 16 << 20
		src := make([]byte, total)
		for i := range src {
			src[i] = byte(i * 7)
		}
		wrote := make(chan error, 1)
		go func() { _, err := c.Write(src); wrote <- err }()
		// Let the pipe back up completely before reading (the writer blocks).
		c.SetWriteDeadline(time.Now().Add(testDeadline))
		time.Sleep(100 * time.Millisecond) // give the flood time to hit the limit; not a synchronisation
		got := make([]byte, total)
		if _, err := io.ReadFull(c, got); err != nil {
			t.Fatal(err)
		}
		if err := <-wrote; err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, src) {
			t.Fatal("echoed bytes differ")
		}
		// Past half the limit reading stops; what the kernel had received by then still
		// arrives and is echoed (see Conn.Write): at most one socket receive buffer.
		if m := maxBuf.Load(); m > limit+int64(maxRcvBuf()) {
			t.Errorf("buffered output reached %d bytes, limit %d", m, limit)
		}
		t.Logf("largest buffered output %d bytes for a %d-byte limit", maxBuf.Load(), limit)
	})
}

type watchEcho struct {
	echoHandler
	max *atomic.Int64
}

func (h *watchEcho) OnData(c *Conn, b []byte) {
	if _, err := c.Write(b); err != nil {
		c.Close()
	}
	if n := int64(c.Buffered()); n > h.max.Load() {
		h.max.Store(n)
	}
}

// retainer keeps every buffer past OnData and echoes it later, from a timer.
type retainer struct{ echoHandler }

type kept struct{ bufs []Retained }

func (h *retainer) OnData(c *Conn, b []byte) {
	k, _ := c.Context().(*kept)
	if k == nil {
		k = &kept{}
		c.SetContext(k)
	}
	k.bufs = append(k.bufs, c.Retain())
	if len(k.bufs) == 1 {
		c.Loop().AfterFunc(time.Millisecond, func() {
			for i := range k.bufs {
				c.Write(k.bufs[i].Bytes())
				k.bufs[i].Release()
			}
			k.bufs = k.bufs[:0]
		})
	}
}

// TestRetainAndStarvedGroup receives into a group of four tiny buffers that the
// handler retains: the group runs dry (ENOBUFS) again and again, connections wait
// for buffers, and no byte is lost or reordered.
func TestRetainAndStarvedGroup(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		h := &retainer{echoHandler: *newEcho()}
		s := serveEcho(t, rt, h, Config{RecvBuffers: 4, RecvBufferSize: 64})
		streamThrough(t, s, 4)
	})
}

// streamThrough runs n checksummed streams through s at once (see oracleStream).
func streamThrough(t *testing.T, s *Server, n int) {
	t.Helper()
	streamThroughSized(t, s, n, 100, 700)
}

// streamThroughSized is streamThrough with msgs messages of up to maxSize bytes each.
func streamThroughSized(t *testing.T, s *Server, n, msgs, maxSize int) {
	t.Helper()
	var wg sync.WaitGroup
	for i := range n {
		c := dialStd(t, s)
		defer c.Close()
		wg.Add(1)
		go func() {
			defer wg.Done()
			oracleStream(t, c, uint64(i), msgs, maxSize)
		}()
	}
	wg.Wait()
}

// TestServerCloseEndsConnections closes a server with open connections: every one
// gets OnClose with net.ErrClosed and its peer reads EOF.
func TestServerCloseEndsConnections(t *testing.T) {
	forEachDriver(t, 2, func(t *testing.T, rt *runtime.Runtime) {
		h := newEcho()
		cfg := Config{Handler: h}
		s, err := Serve(ctxT(t), rt, "tcp", "127.0.0.1:0", cfg)
		if err != nil {
			t.Fatal(err)
		}
		var peers []net.Conn
		for i := 0; i < 10; i++ {
			c := dialStd(t, s)
			defer c.Close()
			c.Write([]byte("hi"))
			io.ReadFull(c, make([]byte, 2))
			peers = append(peers, c)
		}
		if err := s.Close(ctxT(t)); err != nil {
			t.Fatal(err)
		}
		for range peers {
			if err := recvErr(t, h.closed); !errors.Is(err, net.ErrClosed) {
				t.Fatalf("OnClose err = %v, want net.ErrClosed", err)
			}
		}
		for _, c := range peers {
			if _, err := c.Read(make([]byte, 1)); err != io.EOF {
				t.Fatalf("peer read %v, want EOF", err)
			}
		}
		if _, err := net.Dial("tcp", s.Addr().String()); err == nil {
			t.Fatal("dial after Close succeeded")
		}
	})
}

// TestRuntimeCloseEndsConnections closes the runtime under a server with open
// connections and a connection mid-send: everything ends and no descriptor remains.
func TestRuntimeCloseEndsConnections(t *testing.T) {
	for _, k := range testkit.Drivers(t) {
		t.Run(string(k), func(t *testing.T) {
			before := testkit.FDCount(t)
			rt := newRuntime(t, k, 2) // closed here; its cleanup's Close is then a no-op
			h := &closer{echoHandler: *newEcho(), n: 16 << 20, abort: false}
			s, err := Serve(ctxT(t), rt, "tcp", "127.0.0.1:0", Config{Handler: h, WriteBufferLimit: 32 << 20})
			if err != nil {
				t.Fatal(err)
			}
			var peers []net.Conn
			for i := 0; i < 6; i++ {
				c := dialStd(t, s)
				peers = append(peers, c)
			}
			peers[0].Write([]byte("go")) // this one has 16 MiB in flight to a peer that does not read
			for range peers {
				<-h.opened
			}
			if err := rt.Close(ctxT(t)); err != nil {
				t.Fatal(err)
			}
			for range peers {
				if err := recvErr(t, h.closed); err != nil && !errors.Is(err, net.ErrClosed) {
					t.Fatalf("OnClose err = %v", err)
				}
			}
			if err := s.Close(ctxT(t)); err != nil {
				t.Fatalf("Server.Close after the runtime closed: %v", err)
			}
			for _, c := range peers {
				c.Close()
			}
			waitFds(t, before)
		})
	}
}

package znet

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/zokio/zokio/internal/testkit"
	"github.com/zokio/zokio/poller"
	"github.com/zokio/zokio/runtime"
)

// hugeSize is past 32 bits by 16 bytes: a length cut to uint32 would be 16.
const hugeSize = 4<<30 + 16

// markers are the offsets of a huge buffer that carry a known 8-byte pattern: both
// ends, and both sides of every place a 32-bit, int32 or 1 GiB split could fall. The
// rest of the buffer is never touched and reads as zeros.
func markers(size int) []int {
	var ms []int
	for _, at := range []int{0, 1 << 30, poller.MaxRW, 1 << 31, 3 << 30, 1 << 32, size - 8} {
		for _, m := range []int{at - 8, at} {
			if m >= 0 && m+8 <= size && (len(ms) == 0 || m >= ms[len(ms)-1]+8) {
				ms = append(ms, m)
			}
		}
	}
	return ms
}

func pattern(off int) uint64 { return uint64(off)*0x9e3779b97f4a7c15 | 1 }

// markHuge writes the pattern at every marker of b.
func markHuge(b []byte) {
	for _, m := range markers(len(b)) {
		binary.LittleEndian.PutUint64(b[m:], pattern(m))
	}
}

// hugeChecker verifies a stream that should equal a marked huge buffer: zeros except
// the patterns at the markers.
type hugeChecker struct {
	ms   []int
	off  int
	tmp  []byte
	zero []byte
}

func newHugeChecker(size int) *hugeChecker {
	return &hugeChecker{ms: markers(size), tmp: make([]byte, 8<<20), zero: make([]byte, 8<<20)}
}

// check takes the next len(p) ≤ 8 MiB bytes of the stream.
func (h *hugeChecker) check(p []byte) error {
	c := h.tmp[:copy(h.tmp, p)]
	for _, m := range h.ms {
		for i := max(m, h.off); i < min(m+8, h.off+len(p)); i++ {
			var want [8]byte
			binary.LittleEndian.PutUint64(want[:], pattern(m))
			if c[i-h.off] != want[i-m] {
				return errors.New("pattern mismatch at " + itoa(i))
			}
			c[i-h.off] = 0
		}
	}
	if !bytes.Equal(c, h.zero[:len(c)]) {
		return errors.New("non-zero byte near offset " + itoa(h.off+bytes.IndexFunc(c, func(r rune) bool { return r != 0 })))
	}
	h.off += len(p)
	return nil
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestNetConnHugeBuffers writes 4 GiB + 16 bytes through a NetConn in one Write and
// reads into a 4 GiB buffer (issue 15, items 4 and 5: lengths cut to 32 bits on
// io_uring, an int32 counter that panicked on epoll). The peer is Go's net; every
// byte that crosses is checked. The buffer is mapped without reserving memory, so
// only its marked pages and the kernel's socket buffers cost memory.
func TestNetConnHugeBuffers(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 4 GiB per driver; skipped under -short")
	}
	buf, rbuf := testkit.HugeBuffer(t, hugeSize), testkit.HugeBuffer(t, hugeSize)
	markHuge(buf)
	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		std, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer std.Close()
		accepted := acceptT(t, std)
		c := dialT(t, rt, "tcp", std.Addr().String())
		peer := acceptedT(t, accepted)
		peer.SetDeadline(time.Now().Add(5 * time.Minute))

		// Write: one call, all of it, every byte as sent.
		got := make(chan error, 1)
		go func() {
			h, rb := newHugeChecker(hugeSize), make([]byte, 8<<20)
			for h.off < hugeSize {
				n, err := peer.Read(rb)
				if err == nil {
					err = h.check(rb[:n])
				}
				if err != nil {
					peer.Close() // the Write fails instead of waiting for a reader
					got <- fmt.Errorf("after %d bytes: %w", h.off, err)
					return
				}
			}
			got <- nil
		}()
		start := time.Now()
		n, err := c.Write(buf)
		if rerr := <-got; rerr != nil {
			t.Fatalf("the peer read: %v (Write: %d, %v)", rerr, n, err)
		}
		if n != hugeSize || err != nil {
			t.Fatalf("Write(4 GiB + 16) = %d, %v; want %d, nil", n, err, hugeSize)
		}
		t.Logf("4 GiB + 16 written and checked in %v", time.Since(start).Round(time.Millisecond))

		// Read into 4 GiB + 16: the bytes pending come back, not (0, io.EOF).
		msg := make([]byte, 4096)
		rand.New(rand.NewSource(1)).Read(msg)
		if _, err := peer.Write(msg); err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(testDeadline))
		for off := 0; off < len(msg); {
			n, err := c.Read(rbuf)
			if err != nil || n == 0 {
				t.Fatalf("Read into 4 GiB + 16 after %d bytes: %d, %v", off, n, err)
			}
			if !bytes.Equal(rbuf[:n], msg[off:off+n]) {
				t.Fatalf("Read into 4 GiB + 16: bytes %d..%d differ", off, off+n)
			}
			off += n
		}
		peer.Close()
		if n, err := c.Read(rbuf); n != 0 || err != io.EOF {
			t.Fatalf("Read after the peer closed: %d, %v; want 0, io.EOF", n, err)
		}
	})
}

// TestPacketConnHugeBuffers: a datagram write of 4 GiB + 16 fails with EMSGSIZE (no
// datagram is that long) and a read into such a buffer gets the datagram.
func TestPacketConnHugeBuffers(t *testing.T) {
	buf := testkit.HugeBuffer(t, hugeSize)
	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		a, err := ListenPacket(ctxT(t), rt, "udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		b, err := ListenPacket(ctxT(t), rt, "udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		if n, err := a.WriteTo(buf, b.LocalAddr()); n != 0 || !errors.Is(err, syscall.EMSGSIZE) {
			t.Fatalf("WriteTo(4 GiB + 16) = %d, %v; want 0, EMSGSIZE", n, err)
		}
		if _, err := a.WriteTo([]byte("small datagram"), b.LocalAddr()); err != nil {
			t.Fatal(err)
		}
		b.SetReadDeadline(time.Now().Add(testDeadline))
		n, _, err := b.ReadFrom(buf)
		if err != nil || string(buf[:n]) != "small datagram" {
			t.Fatalf("ReadFrom into 4 GiB + 16: %q, %v", buf[:n], err)
		}
	})
}

// smallRW makes the adapters' and connections' pieces 4 KiB for one test, so that the
// splitting of large transfers runs with little memory.
func smallRW(t *testing.T) {
	old := maxRW
	maxRW = 4096
	t.Cleanup(func() { maxRW = old })
}

// TestSplitTransfers runs transfers many times maxRW through NetConn and through a
// Server's connections, with maxRW made small: the bytes arrive whole and in order.
func TestSplitTransfers(t *testing.T) {
	smallRW(t)
	msg := make([]byte, 1<<20+123)
	rand.New(rand.NewSource(2)).Read(msg)
	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		t.Run("NetConn", func(t *testing.T) {
			std, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer std.Close()
			accepted := acceptT(t, std)
			c := dialT(t, rt, "tcp", std.Addr().String())
			peer := acceptedT(t, accepted)
			peer.SetDeadline(time.Now().Add(testDeadline))
			go func() { peer.Write(msg) }()
			got := make([]byte, len(msg))
			n, err := c.Read(got)
			if err != nil || n == 0 || n > 4096 {
				t.Fatalf("Read of %d bytes with maxRW 4096: %d, %v", len(got), n, err)
			}
			if _, err := io.ReadFull(c, got[n:]); err != nil || !bytes.Equal(got, msg) {
				t.Fatalf("reading the rest: %v (equal %v)", err, bytes.Equal(got, msg))
			}
			back := make(chan []byte, 1)
			go func() {
				b := make([]byte, len(msg))
				_, err := io.ReadFull(peer, b)
				if err != nil {
					t.Error(err)
				}
				back <- b
			}()
			if n, err := c.Write(msg); n != len(msg) || err != nil {
				t.Fatalf("Write of %d bytes with maxRW 4096: %d, %v", len(msg), n, err)
			}
			if !bytes.Equal(<-back, msg) {
				t.Fatal("the peer read other bytes than were written")
			}
		})
		t.Run("Server", func(t *testing.T) {
			s := serveEcho(t, rt, newEcho(), Config{WriteBufferLimit: 4 << 20})
			c := dialStd(t, s)
			defer c.Close()
			go c.Write(msg)
			got := make([]byte, len(msg))
			if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, msg) {
				t.Fatalf("echo of %d bytes with maxRW 4096: %v (equal %v)", len(msg), err, bytes.Equal(got, msg))
			}
		})
	})
}

func TestLimitPieces(t *testing.T) {
	a, b, c := make([]byte, 10), make([]byte, 20), make([]byte, 30)
	for _, tc := range []struct {
		n    int
		want []int
	}{{5, []int{5}}, {10, []int{10}}, {11, []int{10, 1}}, {30, []int{10, 20}}, {59, []int{10, 20, 29}}, {60, []int{10, 20, 30}}, {100, []int{10, 20, 30}}} {
		got := limitPieces([][]byte{a, b, c}, tc.n)
		var lens []int
		for _, g := range got {
			lens = append(lens, len(g))
		}
		if !slices.Equal(lens, tc.want) {
			t.Errorf("limitPieces(10+20+30, %d) = %v, want %v", tc.n, lens, tc.want)
		}
	}
}

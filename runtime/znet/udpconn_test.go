package znet

import (
	"errors"
	"net"
	"testing"
	"time"

	"github.com/zokio/zokio/runtime"
)

// TestDialUDPLikeNet: Dial("udp") returns a connected socket whose Write reaches the
// peer and whose Read gets the peer's reply, side by side with net.Dial's: the same
// addresses, the same truncation of a long datagram, ReadFrom reporting the peer and
// WriteTo refused with net.ErrWriteToConnected.
func TestDialUDPLikeNet(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		peer, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Skipf("no UDP here: %v", err)
		}
		defer peer.Close()
		peer.SetDeadline(time.Now().Add(testDeadline))
		nc, err := net.Dial("udp", peer.LocalAddr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		zc, err := Dial(ctxT(t), rt, "udp", peer.LocalAddr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer zc.Close()
		if _, ok := zc.(*UDPConn); !ok {
			t.Fatalf("Dial(udp) returned %T", zc)
		}
		for _, c := range []net.Conn{nc, zc} {
			c.SetDeadline(time.Now().Add(testDeadline))
			if c.RemoteAddr().String() != peer.LocalAddr().String() {
				t.Errorf("%T RemoteAddr %v, want %v", c, c.RemoteAddr(), peer.LocalAddr())
			}
			if _, err := c.Write([]byte("ping")); err != nil {
				t.Fatalf("%T Write: %v", c, err)
			}
			buf := make([]byte, 64)
			n, from, err := peer.ReadFrom(buf)
			if err != nil || string(buf[:n]) != "ping" || from.String() != c.LocalAddr().String() {
				t.Fatalf("peer got %q from %v (%v), want ping from %v", buf[:n], from, err, c.LocalAddr())
			}
			if _, err := peer.WriteTo([]byte("a long reply"), from); err != nil {
				t.Fatal(err)
			}
			small := make([]byte, 6)
			n, err = c.Read(small)
			if err != nil || string(small[:n]) != "a long" {
				t.Errorf("%T Read: %q, %v; want the datagram truncated to \"a long\"", c, small[:n], err)
			}
			if _, err := peer.WriteTo([]byte("second"), from); err != nil {
				t.Fatal(err)
			}
			pc := c.(interface {
				ReadFrom([]byte) (int, net.Addr, error)
				WriteTo([]byte, net.Addr) (int, error)
			})
			n, src, err := pc.ReadFrom(buf)
			if err != nil || string(buf[:n]) != "second" || src.String() != peer.LocalAddr().String() {
				t.Errorf("%T ReadFrom: %q from %v, %v", c, buf[:n], src, err)
			}
			if _, err := pc.WriteTo([]byte("x"), peer.LocalAddr()); !errors.Is(err, net.ErrWriteToConnected) {
				t.Errorf("%T WriteTo on a connected socket: %v", c, err)
			}
		}
		zc.Close()
		if _, err := zc.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
			t.Errorf("Write after Close: %v", err)
		}
	})
}

// TestDialUDPToPacketConn: a connected znet UDP socket talks to a znet PacketConn, and
// a Read past its deadline fails with a timeout, as net's does.
func TestDialUDPToPacketConn(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		pc, err := ListenPacket(ctxT(t), rt, "udp4", "127.0.0.1:0")
		if err != nil {
			t.Skipf("no UDP here: %v", err)
		}
		defer pc.Close()
		c, err := DialUDP(ctxT(t), rt, "udp4", pc.LocalAddr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		pc.SetDeadline(time.Now().Add(testDeadline))
		if _, err := c.Write([]byte("hello")); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 16)
		n, from, err := pc.ReadFrom(buf)
		if err != nil || string(buf[:n]) != "hello" {
			t.Fatalf("ReadFrom: %q %v", buf[:n], err)
		}
		if _, err := pc.WriteTo([]byte("world"), from); err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(testDeadline))
		if n, err := c.Read(buf); err != nil || string(buf[:n]) != "world" {
			t.Fatalf("Read: %q %v", buf[:n], err)
		}
		c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
		var ne net.Error
		if _, err := c.Read(buf); !errors.As(err, &ne) || !ne.Timeout() {
			t.Errorf("Read past the deadline: %v", err)
		}
		if _, err := DialUDP(ctxT(t), rt, "tcp", pc.LocalAddr().String()); err == nil {
			t.Error("DialUDP took network tcp")
		}
	})
}

package znet

import (
	"errors"
	"net"
	"testing"

	"github.com/zokio/zokio/internal/testkit"
	"github.com/zokio/zokio/runtime"
)

// TestPacketBuffersLikeNet: SetReadBuffer and SetWriteBuffer on a PacketConn and on a
// connected UDPConn set what net.UDPConn's set, read back with getsockopt side by
// side, and fail with net.ErrClosed after Close.
func TestPacketBuffersLikeNet(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		npc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil && testkit.Wine() {
			// Go's net sets SIO_UDP_NETRESET on a UDP socket, which Wine 8 refuses
			// (WSAEOPNOTSUPP): there is no net.UDPConn to compare with there.
			t.Skipf("Go's net has no UDP under Wine: %v", err)
		}
		if err != nil {
			t.Fatal(err)
		}
		defer npc.Close()
		nc := npc.(*net.UDPConn)
		pc, err := ListenPacket(ctxT(t), rt, "udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		uc, err := DialUDP(ctxT(t), rt, "udp", npc.LocalAddr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer uc.Close()
		type setters interface {
			SetReadBuffer(int) error
			SetWriteBuffer(int) error
		}
		for _, st := range []struct {
			name  string
			set   func(c setters) error
			check string
		}{
			{"SetReadBuffer", func(c setters) error { return c.SetReadBuffer(96 << 10) }, "SO_RCVBUF"},
			{"SetWriteBuffer", func(c setters) error { return c.SetWriteBuffer(80 << 10) }, "SO_SNDBUF"},
		} {
			if err := st.set(nc); err != nil {
				t.Fatalf("net's %s: %v", st.name, err)
			}
			for _, z := range []struct {
				name string
				c    setters
				raw  func() map[string]int
			}{
				{"PacketConn", pc, func() map[string]int { return readOpts(t, pc) }},
				{"UDPConn", uc, func() map[string]int { return readOpts(t, uc) }},
			} {
				if err := st.set(z.c); err != nil {
					t.Fatalf("%s.%s: %v", z.name, st.name, err)
				}
				sameOpts(t, z.name+"."+st.name, z.raw(), readOpts(t, nc), st.check)
			}
		}
		if err := pc.Close(); err != nil {
			t.Fatal(err)
		}
		if err := pc.SetReadBuffer(1 << 16); !errors.Is(err, net.ErrClosed) {
			t.Fatalf("SetReadBuffer after Close: %v, want net.ErrClosed", err)
		}
		var oe *net.OpError
		if err := pc.SetWriteBuffer(1 << 16); !errors.As(err, &oe) || !errors.Is(err, net.ErrClosed) {
			t.Fatalf("SetWriteBuffer after Close: %v, want a *net.OpError matching net.ErrClosed", err)
		}
	})
}

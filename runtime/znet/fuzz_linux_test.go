package znet

import (
	"context"
	"io"
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zokio/zokio/internal/testkit"
	"github.com/zokio/zokio/runtime"
)

var fuzzNetworks = []string{"tcp", "tcp4", "tcp6", "unix", "udp", "udp4", "udp6", "unixgram", "ip", ""}

// FuzzResolve resolves fuzzed network names and addresses the way Listen, Dial and
// ListenPacket do, with a context that is already cancelled, so that no name is ever
// looked up: nothing may panic, and an address that resolves must encode what was
// asked (the port, a literal IP, a Unix path), as the decoders read it back.
func FuzzResolve(f *testing.F) {
	for _, a := range []string{"127.0.0.1:80", "[::1]:443", "[fe80::1%1]:0", ":http", "localhost:1", "/tmp/x.sock", "@abstract", "", "1.2.3.4", "[::ffff:1.2.3.4]:9", strings.Repeat("a", 120)} {
		for n := range fuzzNetworks {
			f.Add(uint8(n), a)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	f.Fuzz(func(t *testing.T, n uint8, address string) {
		network := fuzzNetworks[int(n)%len(fuzzNetworks)]
		for _, packet := range []bool{false, true} {
			k, err := parseNetwork(network, packet)
			if err != nil {
				continue
			}
			if sa, _, err := resolveListen(ctx, k, address); err == nil {
				checkResolved(t, k, address, sa.Raw[:], unixPath(&sa), inetOf(inetAddrPort(&sa)))
			}
			sas, err := resolveDial(ctx, k, address)
			if err == nil && len(sas) == 0 {
				t.Fatalf("resolveDial(%s, %q): no address and no error", network, address)
			}
			for i := range sas {
				checkResolved(t, k, address, sas[i].Raw[:], unixPath(&sas[i]), inetOf(inetAddrPort(&sas[i])))
			}
		}
	})
}

type inetResult struct {
	ap netip.AddrPort
	ok bool
}

func inetOf(ap netip.AddrPort, ok bool) inetResult { return inetResult{ap, ok} }

func checkResolved(t *testing.T, k netKind, address string, raw []byte, path string, in inetResult) {
	t.Helper()
	if k.isUnix() {
		if strings.IndexByte(address, 0) >= 0 {
			return // a NUL ends a pathname, and a leading one makes it abstract, as in Go's net
		}
		if path != address {
			t.Fatalf("%s %q encodes the path %q", k.name, address, path)
		}
		return
	}
	if !in.ok {
		t.Fatalf("%s %q resolved to a non-inet address % x", k.name, address, raw[:4])
	}
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		t.Fatalf("%s %q resolved though it does not split: %v", k.name, address, err)
	}
	if p, err := netip.ParseAddrPort(net.JoinHostPort("0.0.0.0", port)); err == nil && p.Port() != in.ap.Port() {
		t.Fatalf("%s %q encodes port %d", k.name, address, in.ap.Port())
	}
	if ip, err := netip.ParseAddr(host); err == nil && ip.WithZone("").Unmap() != in.ap.Addr().WithZone("").Unmap() {
		t.Fatalf("%s %q encodes %v", k.name, address, in.ap.Addr())
	}
}

// FuzzServeConfig serves with fuzzed Config values (sizes, limits, timeouts, the
// accept mode; sizes bounded so that one input maps at most 64 MiB) on loopback and a
// Unix socket in a temporary directory: Serve must fail with an error or serve, and a
// server that serves must echo one message and close cleanly.
func FuzzServeConfig(f *testing.F) {
	var rts []*runtime.Runtime
	for _, k := range testkit.Drivers(f) {
		rts = append(rts, newRuntime(f, k, 2))
	}
	f.Add(uint8(0), int32(0), int64(0), int64(0), int64(0), int32(0), int32(0), int32(0), uint8(0), false)
	f.Add(uint8(1), int32(-1), int64(-1), int64(1), int64(-5), int32(-3), int32(7), int32(-1), uint8(3), true)
	f.Add(uint8(2), int32(1), int64(time.Hour), int64(time.Millisecond), int64(time.Second), int32(65536), int32(3), int32(1), uint8(200), false)
	f.Add(uint8(9), int32(1<<30), int64(1), int64(0), int64(0), int32(1<<20), int32(64), int32(1<<20), uint8(1), true)
	f.Fuzz(func(t *testing.T, accept uint8, wbl int32, idle, readTO, flushTO int64, rsize, rcount, zc int32, arena uint8, unixSock bool) {
		cfg := Config{
			Handler:          newEcho(),
			Accept:           AcceptMode(accept),
			WriteBufferLimit: int(wbl),
			IdleTimeout:      time.Duration(idle),
			ReadTimeout:      time.Duration(readTO),
			FlushTimeout:     time.Duration(flushTO),
			RecvBufferSize:   int(rsize % (1 << 20)),
			RecvBuffers:      int(rcount % 4096),
			SendZCThreshold:  int(zc),
			SendArena:        int(arena % 64),
		}
		if cfg.RecvBufferSize > 0 && cfg.RecvBuffers > 0 && cfg.RecvBufferSize*cfg.RecvBuffers > 64<<20 {
			cfg.RecvBuffers = (64 << 20) / cfg.RecvBufferSize
		}
		for _, rt := range rts {
			network, addr := "tcp", "127.0.0.1:0"
			if unixSock {
				network, addr = "unix", filepath.Join(t.TempDir(), "s")
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			s, err := Serve(ctx, rt, network, addr, cfg)
			if err != nil {
				cancel()
				continue
			}
			c, err := net.DialTimeout(network, s.Addr().String(), 5*time.Second)
			if err == nil {
				c.SetDeadline(time.Now().Add(5 * time.Second))
				msg := []byte("ping")
				_, werr := c.Write(msg)
				got := make([]byte, len(msg))
				_, rerr := io.ReadFull(c, got)
				// A fuzzed timeout may be shorter than the round trip: then the
				// server closes first, with the timeout as its reason.
				if (werr != nil || rerr != nil) && cfg.IdleTimeout <= 0 && cfg.ReadTimeout <= 0 {
					t.Fatalf("%s: echo: write %v, read %v (config %+v)", rt.Driver().Kind, werr, rerr, cfg)
				}
				c.Close()
			}
			if err := s.Close(ctx); err != nil {
				t.Fatalf("%s: Server.Close: %v (config %+v)", rt.Driver().Kind, err, cfg)
			}
			cancel()
		}
	})
}

package znet

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/zokio/zokio/runtime"
)

// TestListenErrorsLikeNet: listening on a port in use fails as Go's net does
// (EADDRINUSE, for TCP and UDP, through Listen, ListenConfig and ListenPacket), a
// failing ListenConfig.Control fails the listen with its error and leaves no socket,
// and ListenPacket refuses a nil runtime with an error rather than a panic.
func TestListenErrorsLikeNet(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		busyT, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer busyT.Close()
		busyU, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer busyU.Close()
		_, nerr := net.Listen("tcp", busyT.Addr().String())
		var lc ListenConfig
		_, zerr := lc.Listen(ctxT(t), rt, "tcp", busyT.Addr().String())
		if !errors.Is(nerr, syscall.EADDRINUSE) || !errors.Is(zerr, syscall.EADDRINUSE) {
			t.Errorf("TCP listen on a port in use: net %v, znet %v", nerr, zerr)
		}
		_, nerr = net.ListenPacket("udp", busyU.LocalAddr().String())
		_, zerr = ListenPacket(ctxT(t), rt, "udp", busyU.LocalAddr().String())
		if !errors.Is(nerr, syscall.EADDRINUSE) || !errors.Is(zerr, syscall.EADDRINUSE) {
			t.Errorf("UDP listen on a port in use: net %v, znet %v", nerr, zerr)
		}
		var oe *net.OpError
		if !errors.As(zerr, &oe) || oe.Op != "listen" {
			t.Errorf("ListenPacket error %#v is no listen *net.OpError", zerr)
		}

		hookErr := errors.New("hook says no")
		lc.Control = func(string, string, syscall.RawConn) error { return hookErr }
		if _, err := lc.Listen(ctxT(t), rt, "tcp", "127.0.0.1:0"); !errors.Is(err, hookErr) {
			t.Errorf("Listen with a failing Control: %v", err)
		}
		if _, err := lc.ListenPacket(ctxT(t), rt, "udp", "127.0.0.1:0"); !errors.Is(err, hookErr) {
			t.Errorf("ListenPacket with a failing Control: %v", err)
		}
		if _, err := ListenPacket(ctxT(t), nil, "udp", "127.0.0.1:0"); err == nil {
			t.Errorf("ListenPacket with a nil runtime: no error")
		}
	})
}

// TestDialContextsLikeNet: a Dial with an already cancelled context fails with
// context.Canceled as net.Dialer.DialContext's does, and a nil context dials as
// context.Background would.
func TestDialContextsLikeNet(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		nln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer nln.Close()
		_, port, _ := net.SplitHostPort(nln.Addr().String())
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		var nd net.Dialer
		_, nerr := nd.DialContext(ctx, "tcp", net.JoinHostPort("localhost", port))
		var zd Dialer
		_, zerr := zd.Dial(ctx, rt, "tcp", net.JoinHostPort("localhost", port))
		if !errors.Is(nerr, context.Canceled) || !errors.Is(zerr, context.Canceled) {
			t.Errorf("Dial with a cancelled context: net %v, znet %v", nerr, zerr)
		}
		var none context.Context
		acc := acceptT(t, nln)
		c, err := zd.Dial(none, rt, "tcp", nln.Addr().String())
		if err != nil {
			t.Fatalf("Dial with a nil context: %v", err)
		}
		<-acc
		c.Close()
	})
}

// TestDialerUnixAndUDPLocalAddr: a Dialer binds a Unix client to its LocalAddr (the
// server sees that path as the peer, as with net.DialUnix's laddr) and shows Control
// the network "unix"; a UDP Dialer binds its LocalAddr; a TCP option on a Unix
// connection is refused with EOPNOTSUPP, as *net.UnixConn has none.
func TestDialerUnixAndUDPLocalAddr(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		requireUnix(t)
		dir := t.TempDir()
		srv := filepath.Join(dir, "srv")
		ln := listenT(t, rt, "unix", srv)
		acc := acceptT(t, ln)
		var sawNet string
		cli := filepath.Join(dir, "cli")
		d := Dialer{LocalAddr: &net.UnixAddr{Name: cli, Net: "unix"},
			Control: func(network, address string, _ syscall.RawConn) error { sawNet = network; return nil }}
		c, err := d.DialNetConn(ctxT(t), rt, "unix", srv)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		peer := acceptedT(t, acc)
		if got := peer.RemoteAddr().String(); got != cli || sawNet != "unix" {
			t.Errorf("server sees peer %q, Control saw %q; want %q, unix", got, sawNet, cli)
		}
		if err := c.SetNoDelay(true); !errors.Is(err, syscall.EOPNOTSUPP) {
			t.Errorf("SetNoDelay on a Unix connection: %v", err)
		}

		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer pc.Close()
		ud := Dialer{LocalAddr: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}}
		uc, err := ud.DialUDP(ctxT(t), rt, "udp", pc.LocalAddr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer uc.Close()
		if la := uc.LocalAddr().(*net.UDPAddr); !la.IP.Equal(net.IPv4(127, 0, 0, 1)) || la.Port == 0 {
			t.Errorf("UDP LocalAddr %v", la)
		}
	})
}

// TestUDPConnTooLongLikeNet: a datagram longer than UDP carries fails with EMSGSIZE
// and sends nothing, as on a net.UDPConn; one longer than the adapter's single-op
// limit is refused before the kernel with EMSGSIZE too.
func TestUDPConnTooLongLikeNet(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		peer, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Skipf("no UDP here: %v", err)
		}
		defer peer.Close()
		nc, err := net.Dial("udp", peer.LocalAddr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		zc, err := DialUDP(ctxT(t), rt, "udp", peer.LocalAddr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer zc.Close()
		zc.SetDeadline(time.Now().Add(testDeadline))
		big := make([]byte, 70000)
		_, nerr := nc.Write(big)
		_, zerr := zc.Write(big)
		if !errors.Is(nerr, syscall.EMSGSIZE) || !errors.Is(zerr, syscall.EMSGSIZE) {
			t.Errorf("70000-byte datagram: net %v, znet %v", nerr, zerr)
		}
		old := maxRW
		maxRW = 4096
		defer func() { maxRW = old }()
		if _, err := zc.Write(big[:5000]); !errors.Is(err, syscall.EMSGSIZE) {
			t.Errorf("a datagram over maxRW: %v", err)
		}
	})
}

// TestSpliceFallbacksLikeNet: ReadFrom and WriteTo take io.Copy's path where no
// splice applies, with the results net.TCPConn gives: from a pipe (not a regular
// file) the bytes arrive, from a closed file the copy fails with os.ErrClosed, to a
// file in append mode the bytes are appended; and both fail with net.ErrClosed on a
// closed connection (ReadFrom on c, WriteTo to a closed *NetConn).
func TestSpliceFallbacksLikeNet(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		a, pa, b, pb := connPair(t, rt)
		pr, pw, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			pw.Write([]byte("through a pipe"))
			pw.Close()
		}()
		n, err := a.ReadFrom(pr)
		pr.Close()
		if err != nil || n != int64(len("through a pipe")) {
			t.Fatalf("ReadFrom(pipe): %d, %v", n, err)
		}
		got := make([]byte, n)
		if _, err := io.ReadFull(pa, got); err != nil || string(got) != "through a pipe" {
			t.Errorf("a's peer got %q, %v", got, err)
		}
		closed, err := os.Open(filepath.Join(t.TempDir()))
		if err != nil {
			t.Fatal(err)
		}
		closed.Close()
		if _, err := a.ReadFrom(closed); !errors.Is(err, os.ErrClosed) {
			t.Errorf("ReadFrom(a closed file): %v", err)
		}

		name := filepath.Join(t.TempDir(), "log")
		if err := os.WriteFile(name, []byte("head;"), 0o600); err != nil {
			t.Fatal(err)
		}
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := pb.Write([]byte("appended")); err != nil {
			t.Fatal(err)
		}
		pb.(*net.TCPConn).CloseWrite()
		if n, err := b.WriteTo(f); err != nil || n != int64(len("appended")) {
			t.Fatalf("WriteTo(append-mode file): %d, %v", n, err)
		}
		if data, err := os.ReadFile(name); err != nil || string(data) != "head;appended" {
			t.Errorf("file holds %q, %v", data, err)
		}

		a.Close()
		if _, err := a.ReadFrom(io.LimitReader(pr, 1)); !errors.Is(err, net.ErrClosed) {
			t.Errorf("ReadFrom on a closed connection: %v", err)
		}
		if _, err := b.WriteTo(a); !errors.Is(err, net.ErrClosed) {
			t.Errorf("WriteTo a closed *NetConn: %v", err)
		}
	})
}

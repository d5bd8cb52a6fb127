package znet

import (
	"context"
	"errors"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/zokio/zokio/runtime"
)

// optNames are the socket options the tests read back, with getsockopt.
var optNames = []struct {
	name       string
	level, opt int
}{
	{"SO_KEEPALIVE", solSocket, soKeepAlive},
	{"TCP_KEEPIDLE", ipprotoTCP, tcpKeepIdle},
	{"TCP_KEEPINTVL", ipprotoTCP, tcpKeepIntvl},
	{"TCP_KEEPCNT", ipprotoTCP, tcpKeepCnt},
	{"TCP_NODELAY", ipprotoTCP, tcpNoDelay},
	{"SO_RCVBUF", solSocket, soRcvBuf},
	{"SO_SNDBUF", solSocket, soSndBuf},
}

// readOpts reads every option of optNames from a syscall.Conn; an option the
// system does not have is left out (-1).
func readOpts(t *testing.T, c syscall.Conn) map[string]int {
	t.Helper()
	rc, err := c.SyscallConn()
	if err != nil {
		t.Fatalf("SyscallConn: %v", err)
	}
	got := map[string]int{}
	if err := rc.Control(func(fd uintptr) {
		for _, o := range optNames {
			if o.opt < 0 {
				got[o.name] = -1
				continue
			}
			v, err := getSockoptInt(int(fd), o.level, o.opt)
			if err != nil {
				v = -1
			}
			got[o.name] = v
		}
	}); err != nil {
		t.Fatalf("Control: %v", err)
	}
	return got
}

// sameOpts compares ours with net's, option by option, for the names given.
func sameOpts(t *testing.T, what string, ours, nets map[string]int, names ...string) {
	t.Helper()
	for _, n := range names {
		if ours[n] != nets[n] {
			t.Errorf("%s: %s = %d, net's gives %d", what, n, ours[n], nets[n])
		}
	}
}

var keepNames = []string{"SO_KEEPALIVE", "TCP_KEEPIDLE", "TCP_KEEPINTVL", "TCP_KEEPCNT", "TCP_NODELAY"}

// TestDefaultOptionsLikeNet: a dialed and an accepted TCP connection have the
// keep-alive and no-delay settings Go's net gives its own (keep-alive on, 15 s idle,
// 15 s interval, 9 probes; TCP_NODELAY on), read back with getsockopt side by side.
func TestDefaultOptionsLikeNet(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		nln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer nln.Close()
		netAcc := acceptT(t, nln)
		nc, err := net.Dial("tcp", nln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		netDialed := readOpts(t, nc.(*net.TCPConn))
		netAccepted := readOpts(t, (<-netAcc).(*net.TCPConn))
		if netDialed["SO_KEEPALIVE"] != 1 {
			t.Fatalf("net's dialed connection has SO_KEEPALIVE %d", netDialed["SO_KEEPALIVE"])
		}

		ln := listenT(t, rt, "tcp", "127.0.0.1:0")
		acc := acceptT(t, ln)
		zc := dialT(t, rt, "tcp", ln.Addr().String())
		sameOpts(t, "dialed", readOpts(t, zc), netDialed, keepNames...)
		sameOpts(t, "accepted", readOpts(t, (<-acc).(*NetConn)), netAccepted, keepNames...)
		if haveKeepTune {
			// -1: the system does not report it (Wine 8 has no TCP_KEEPIDLE).
			if got := readOpts(t, zc)["TCP_KEEPIDLE"]; got != 15 && got != -1 {
				t.Errorf("TCP_KEEPIDLE = %d, want 15", got)
			}
		}
	})
}

// TestOptionSettersLikeNet: every setter leaves the socket as net.TCPConn's does.
func TestOptionSettersLikeNet(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		nln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer nln.Close()
		a1, a2 := acceptT(t, nln), acceptT(t, nln)
		defer func() { <-a1; <-a2 }()
		nc, err := net.Dial("tcp", nln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		zc := dialT(t, rt, "tcp", nln.Addr().String())
		type setters interface {
			syscall.Conn
			SetKeepAlive(bool) error
			SetKeepAlivePeriod(time.Duration) error
			SetKeepAliveConfig(net.KeepAliveConfig) error
			SetNoDelay(bool) error
			SetLinger(int) error
			SetReadBuffer(int) error
			SetWriteBuffer(int) error
		}
		steps := []struct {
			name  string
			set   func(c setters) error
			check []string
		}{
			{"SetKeepAlive(false)", func(c setters) error { return c.SetKeepAlive(false) }, []string{"SO_KEEPALIVE"}},
			{"SetKeepAlive(true)", func(c setters) error { return c.SetKeepAlive(true) }, []string{"SO_KEEPALIVE"}},
			{"SetKeepAlivePeriod(1500ms)", func(c setters) error { return c.SetKeepAlivePeriod(1500 * time.Millisecond) }, keepNames},
			{"SetKeepAliveConfig", func(c setters) error {
				return c.SetKeepAliveConfig(net.KeepAliveConfig{Enable: true, Idle: 40 * time.Second, Interval: 7 * time.Second, Count: 3})
			}, keepNames},
			{"SetKeepAliveConfig(negative: unchanged)", func(c setters) error {
				return c.SetKeepAliveConfig(net.KeepAliveConfig{Enable: true, Idle: -1, Interval: 0, Count: -1})
			}, keepNames},
			{"SetKeepAliveConfig(off)", func(c setters) error { return c.SetKeepAliveConfig(net.KeepAliveConfig{}) }, keepNames},
			{"SetNoDelay(false)", func(c setters) error { return c.SetNoDelay(false) }, []string{"TCP_NODELAY"}},
			{"SetReadBuffer", func(c setters) error { return c.SetReadBuffer(96 << 10) }, []string{"SO_RCVBUF"}},
			{"SetWriteBuffer", func(c setters) error { return c.SetWriteBuffer(80 << 10) }, []string{"SO_SNDBUF"}},
			{"SetLinger(3)", func(c setters) error { return c.SetLinger(3) }, nil},
		}
		for _, st := range steps {
			nerr := st.set(nc.(*net.TCPConn))
			zerr := st.set(zc)
			if (nerr == nil) != (zerr == nil) {
				t.Fatalf("%s: ours %v, net's %v", st.name, zerr, nerr)
			}
			sameOpts(t, st.name, readOpts(t, zc), readOpts(t, nc.(*net.TCPConn)), st.check...)
		}
		if got := readOpts(t, zc)["TCP_KEEPINTVL"]; haveKeepTune && got != 15 && got != -1 {
			t.Errorf("Interval 0 took %d s, want Go's default 15", got)
		}
		zc.Close()
		var oe *net.OpError
		if err := zc.SetNoDelay(true); !errors.As(err, &oe) || !errors.Is(err, net.ErrClosed) {
			t.Errorf("SetNoDelay after Close: %v", err)
		}
	})
}

// TestDialerOptions: Dialer.KeepAlive and KeepAliveConfig as net.Dialer's, Control
// called with the resolved network and address before the connect, LocalAddr bound.
func TestDialerOptions(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		nln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer nln.Close()
		addr := nln.Addr().String()
		var accs []<-chan net.Conn
		defer func() {
			for _, a := range accs {
				<-a // every dial was accepted before the listener closes
			}
		}()
		for _, d := range []struct {
			ka  time.Duration
			cfg net.KeepAliveConfig
		}{{-1, net.KeepAliveConfig{}}, {20 * time.Second, net.KeepAliveConfig{}},
			{0, net.KeepAliveConfig{Enable: true, Idle: 5 * time.Second, Interval: 2 * time.Second, Count: 4}}} {
			accs = append(accs, acceptT(t, nln), acceptT(t, nln))
			nd := net.Dialer{KeepAlive: d.ka, KeepAliveConfig: d.cfg}
			nc, err := nd.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			zd := Dialer{KeepAlive: d.ka, KeepAliveConfig: d.cfg}
			zc, err := zd.DialNetConn(ctxT(t), rt, "tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			sameOpts(t, "Dialer", readOpts(t, zc), readOpts(t, nc.(*net.TCPConn)), keepNames...)
			nc.Close()
			zc.Close()
		}

		accs = append(accs, acceptT(t, nln))
		var gotNet, gotAddr string
		var rcv int
		zd := Dialer{
			LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)},
			Control: func(network, address string, c syscall.RawConn) error {
				gotNet, gotAddr = network, address
				return c.Control(func(fd uintptr) {
					_ = setSockoptInt(int(fd), solSocket, soRcvBuf, 64<<10)
					rcv, _ = getSockoptInt(int(fd), solSocket, soRcvBuf)
				})
			},
		}
		c, err := zd.Dial(ctxT(t), rt, "tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if gotNet != "tcp4" || gotAddr != addr || rcv == 0 {
			t.Errorf("Control saw %q %q rcvbuf %d, want tcp4 %s", gotNet, gotAddr, rcv, addr)
		}
		if la := c.LocalAddr().(*net.TCPAddr); !la.IP.Equal(net.IPv4(127, 0, 0, 1)) || la.Port == 0 {
			t.Errorf("LocalAddr %v", la)
		}

		boom := errors.New("refused by the hook")
		zd = Dialer{Control: func(string, string, syscall.RawConn) error { return boom }}
		if _, err := zd.Dial(ctxT(t), rt, "tcp", addr); !errors.Is(err, boom) {
			t.Errorf("Dial with a failing Control: %v", err)
		}
		zd = Dialer{LocalAddr: &net.UDPAddr{}}
		var ae *net.AddrError
		if _, err := zd.Dial(ctxT(t), rt, "tcp", addr); !errors.As(err, &ae) {
			t.Errorf("Dial with a UDP LocalAddr: %v", err)
		}
	})
}

// TestDialExpiredLikeNet: a dial past its Deadline, Timeout or context fails as
// net.Dialer's does, with the remote address in the *net.OpError.
func TestDialExpiredLikeNet(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		nln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer nln.Close()
		addr := nln.Addr().String()
		past, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
		defer cancel()
		cases := []struct {
			name string
			ctx  context.Context
			nd   net.Dialer
			zd   Dialer
		}{
			{"context", past, net.Dialer{}, Dialer{}},
			{"Deadline", context.Background(), net.Dialer{Deadline: time.Now().Add(-time.Second)}, Dialer{Deadline: time.Now().Add(-time.Second)}},
		}
		for _, tc := range cases {
			_, nerr := tc.nd.DialContext(tc.ctx, "tcp", addr)
			_, zerr := tc.zd.Dial(tc.ctx, rt, "tcp", addr)
			var noe, zoe *net.OpError
			if !errors.As(nerr, &noe) || !errors.As(zerr, &zoe) {
				t.Fatalf("%s: ours %v, net's %v", tc.name, zerr, nerr)
			}
			if addrString(zoe.Addr) != addrString(noe.Addr) || zoe.Timeout() != noe.Timeout() ||
				errors.Is(zerr, context.DeadlineExceeded) != errors.Is(nerr, context.DeadlineExceeded) {
				t.Errorf("%s: ours %v (Addr %v), net's %v (Addr %v)", tc.name, zerr, zoe.Addr, nerr, noe.Addr)
			}
		}
	})
}

// TestListenConfig: the Control hook runs on the listening socket, accepted TCP
// connections take its keep-alive, and the listener's SyscallConn and File work (a
// File handed to net.FileListener accepts on the same socket).
func TestListenConfig(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		var gotNet string
		lc := ListenConfig{KeepAlive: -1, Control: func(network, address string, c syscall.RawConn) error {
			gotNet = network
			return nil
		}}
		ln, err := lc.Listen(ctxT(t), rt, "tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		if gotNet != "tcp4" {
			t.Errorf("Control saw network %q, want tcp4", gotNet)
		}
		acc := acceptT(t, ln)
		c := dialT(t, rt, "tcp", ln.Addr().String())
		if got := readOpts(t, (<-acc).(*NetConn))["SO_KEEPALIVE"]; got != 0 {
			t.Errorf("accepted with KeepAlive -1: SO_KEEPALIVE %d", got)
		}
		_ = c

		rc, err := ln.SyscallConn()
		if err != nil {
			t.Fatal(err)
		}
		var rcv int
		if err := rc.Control(func(fd uintptr) { rcv, _ = getSockoptInt(int(fd), solSocket, soRcvBuf) }); err != nil || rcv <= 0 {
			t.Errorf("listener Control: %v, SO_RCVBUF %d", err, rcv)
		}
		f, err := ln.File()
		if errors.Is(err, errors.ErrUnsupported) {
			t.Logf("Listener.File: %v", err)
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		fl, err := net.FileListener(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		defer fl.Close()
		facc := acceptT(t, fl)
		c2 := dialT(t, rt, "tcp", ln.Addr().String())
		select {
		case a := <-facc:
			if a == nil {
				t.Fatal("FileListener accepted nothing")
			}
			if a.RemoteAddr().String() != c2.LocalAddr().String() {
				t.Errorf("FileListener accepted %v, dialed from %v", a.RemoteAddr(), c2.LocalAddr())
			}
		case <-time.After(testDeadline):
			t.Fatal("the File's listener accepted nothing")
		}
		ln.Close()
		if _, err := ln.File(); !errors.Is(err, net.ErrClosed) {
			t.Errorf("File after Close: %v", err)
		}
	})
}

// TestServeConfigOptions: the event API's Control hook sees every listening socket,
// and accepted connections take Config.KeepAliveConfig and Config.Nagle.
func TestServeConfigOptions(t *testing.T) {
	forEachDriver(t, 2, func(t *testing.T, rt *runtime.Runtime) {
		calls := 0
		h := newEcho()
		cfg := Config{
			KeepAliveConfig: net.KeepAliveConfig{Enable: true, Idle: 33 * time.Second, Interval: 4 * time.Second, Count: 2},
			Nagle:           true,
			Control:         func(string, string, syscall.RawConn) error { calls++; return nil },
		}
		s := serveEcho(t, rt, h, cfg)
		if want := len(s.loops); calls != want && calls != 1 {
			t.Errorf("Control ran %d times for %d loops", calls, want)
		}
		nc := dialStd(t, s)
		defer nc.Close()
		sc := <-h.opened
		got := make(chan map[string]int, 1)
		if err := sc.Loop().Post(func() {
			m := map[string]int{}
			for _, o := range optNames {
				m[o.name] = -1 // not set, or not reported by the system
				if v, err := getSockoptInt(sc.fd, o.level, o.opt); o.opt >= 0 && err == nil {
					m[o.name] = v
				}
			}
			got <- m
		}); err != nil {
			t.Fatal(err)
		}
		m := <-got
		tuned := haveKeepTune && m["TCP_KEEPIDLE"] != -1
		if m["SO_KEEPALIVE"] != 1 || m["TCP_NODELAY"] != 0 || (tuned && (m["TCP_KEEPIDLE"] != 33 || m["TCP_KEEPINTVL"] != 4 || m["TCP_KEEPCNT"] != 2)) {
			t.Errorf("accepted connection's options: %v", m)
		}
		boom := errors.New("no")
		cfg.Control = func(string, string, syscall.RawConn) error { return boom }
		cfg.Handler = h
		if _, err := Serve(ctxT(t), rt, "tcp", "127.0.0.1:0", cfg); !errors.Is(err, boom) {
			t.Errorf("Serve with a failing Control: %v", err)
		}
	})
}

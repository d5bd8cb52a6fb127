package znet

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/zokio/zokio/internal/testkit"
	"github.com/zokio/zokio/runtime"
)

func listenT(t *testing.T, rt *runtime.Runtime, network, addr string) *Listener {
	t.Helper()
	ln, err := Listen(ctxT(t), rt, network, addr)
	if err != nil {
		t.Fatalf("Listen(%s, %s): %v", network, addr, err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

func dialT(t *testing.T, rt *runtime.Runtime, network, addr string) *NetConn {
	t.Helper()
	c, err := DialNetConn(ctxT(t), rt, network, addr)
	if err != nil {
		t.Fatalf("Dial(%s, %s): %v", network, addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// acceptT accepts one connection in the background.
func acceptT(t *testing.T, ln net.Listener) <-chan net.Conn {
	ch := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			t.Errorf("Accept: %v", err)
			close(ch)
			return
		}
		t.Cleanup(func() { c.Close() })
		ch <- c
	}()
	return ch
}

// acceptedT is the connection acceptT's goroutine accepted; if Accept failed (it said
// why), the test stops here instead of using a nil net.Conn.
func acceptedT(t *testing.T, ch <-chan net.Conn) net.Conn {
	t.Helper()
	c, ok := <-ch
	if !ok {
		t.FailNow()
	}
	return c
}

// TestHTTPServer serves net/http over our Listener and answers 1,000 requests from
// net/http's client, dialing with Go's net package and with ours.
func TestHTTPServer(t *testing.T) {
	forEachDriver(t, 2, func(t *testing.T, rt *runtime.Runtime) {
		ln := listenT(t, rt, "tcp", "127.0.0.1:0")
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			fmt.Fprintf(w, "%s %s %d", r.Method, r.URL.Path, len(body))
		})}
		served := make(chan error, 1)
		go func() { served <- srv.Serve(ln) }()
		for _, ours := range []bool{false, true} {
			tr := &http.Transport{MaxIdleConnsPerHost: 8}
			if ours {
				tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
					return Dial(ctx, rt, network, addr)
				}
			}
			client := &http.Client{Transport: tr, Timeout: testDeadline}
			var wg sync.WaitGroup
			for w := 0; w < 8; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < 500/8+1 && !t.Failed(); i++ {
						path := "/r/" + strconv.Itoa(w*1000+i)
						var resp *http.Response
						var err error
						if i%4 == 0 {
							resp, err = client.Post("http://"+ln.Addr().String()+path, "text/plain", bytes.NewReader(make([]byte, 3000)))
						} else {
							resp, err = client.Get("http://" + ln.Addr().String() + path)
						}
						if err != nil {
							t.Error(err)
							return
						}
						body, err := io.ReadAll(resp.Body)
						resp.Body.Close()
						want := "GET " + path + " 0"
						if i%4 == 0 {
							want = "POST " + path + " 3000"
						}
						if err != nil || string(body) != want {
							t.Errorf("got %q, %v; want %q", body, err, want)
							return
						}
					}
				}()
			}
			wg.Wait()
			tr.CloseIdleConnections()
		}
		ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
		if err := <-served; err != http.ErrServerClosed {
			t.Fatalf("Serve returned %v", err)
		}
	})
}

// selfSigned makes a certificate for 127.0.0.1 and a pool that trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "znet test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// TestTLSEcho runs crypto/tls on both ends of our connections: a TLS echo of 4 MiB.
func TestTLSEcho(t *testing.T) {
	cert, pool := selfSigned(t)
	forEachDriver(t, 2, func(t *testing.T, rt *runtime.Runtime) {
		ln := tls.NewListener(listenT(t, rt, "tcp", "127.0.0.1:0"), &tls.Config{Certificates: []tls.Certificate{cert}})
		served := make(chan struct{})
		go func() {
			defer close(served)
			c, err := ln.Accept()
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			io.Copy(c, c)
		}()
		raw := dialT(t, rt, "tcp", ln.Addr().String())
		c := tls.Client(raw, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
		// The server's connection must be closed before the runtime's cleanup counts
		// descriptors: close ours, then wait for its io.Copy to see the end.
		defer func() {
			c.Close()
			select {
			case <-served:
			case <-time.After(testDeadline):
				t.Errorf("the TLS server never finished\n%s", hung())
			}
		}()
		c.SetDeadline(time.Now().Add(testDeadline))
		msg := make([]byte, 4<<20)
		rand.Read(msg)
		go c.Write(msg)
		got := make([]byte, len(msg))
		if _, err := io.ReadFull(c, got); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, msg) {
			t.Fatal("TLS echo mismatch")
		}
		if st := c.ConnectionState(); !st.HandshakeComplete {
			t.Fatal("handshake incomplete")
		}
	})
}

// TestAdapterHalfClose: the client shuts down its writing side; the server reads to
// EOF, answers, and the client reads the answer, then EOF.
func TestAdapterHalfClose(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		ln := listenT(t, rt, "tcp", "127.0.0.1:0")
		srvc := acceptT(t, ln)
		c := dialT(t, rt, "tcp", ln.Addr().String())
		s := acceptedT(t, srvc)
		c.Write([]byte("request"))
		if err := c.CloseWrite(); err != nil {
			t.Fatal(err)
		}
		req, err := io.ReadAll(s)
		if err != nil || string(req) != "request" {
			t.Fatalf("server read %q, %v", req, err)
		}
		s.Write([]byte("response"))
		s.Close()
		resp, err := io.ReadAll(c)
		if err != nil || string(resp) != "response" {
			t.Fatalf("client read %q, %v", resp, err)
		}
		if _, err := c.Read(make([]byte, 1)); err != io.EOF {
			t.Fatalf("read after EOF: %v, want io.EOF", err)
		}
	})
}

// TestAdapterPeerReset: a peer that closes with SO_LINGER 0 resets the connection;
// Read reports ECONNRESET in a *net.OpError.
func TestAdapterPeerReset(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		ln := listenT(t, rt, "tcp", "127.0.0.1:0")
		srvc := acceptT(t, ln)
		c := dialT(t, rt, "tcp", ln.Addr().String())
		s := acceptedT(t, srvc)
		got := make(chan error, 1)
		go func() { _, err := s.Read(make([]byte, 10)); got <- err }()
		if err := setLingerZero(c.fd); err != nil {
			t.Fatal(err)
		}
		c.Close()
		err := <-got
		var oe *net.OpError
		if !errors.As(err, &oe) || oe.Op != "read" || !errors.Is(err, errConnReset) {
			t.Fatalf("Read after reset: %#v, want *net.OpError read ECONNRESET", err)
		}
	})
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout() && errors.Is(err, os.ErrDeadlineExceeded)
}

// TestAdapterDeadlines covers read, write and accept deadlines: expiry, moving a
// deadline into the past under a blocked call, extending one, and that data arriving
// after a timeout is read afterwards (nothing lost).
func TestAdapterDeadlines(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		ln := listenT(t, rt, "tcp", "127.0.0.1:0")
		srvc := acceptT(t, ln)
		c := dialT(t, rt, "tcp", ln.Addr().String())
		s := acceptedT(t, srvc)
		buf := make([]byte, 16)

		c.SetReadDeadline(time.Now().Add(30 * time.Millisecond))
		start := time.Now()
		if _, err := c.Read(buf); !isTimeout(err) {
			t.Fatalf("Read past deadline: %v", err)
		}
		if d := time.Since(start); d < 25*time.Millisecond {
			t.Fatalf("deadline fired after %v", d)
		}
		if _, err := c.Read(buf); !isTimeout(err) {
			t.Fatalf("Read with the deadline still past: %v", err)
		}
		// Data that arrives after the timeout is there for the next Read.
		s.Write([]byte("late"))
		c.SetReadDeadline(time.Time{})
		if n, err := c.Read(buf); err != nil || string(buf[:n]) != "late" {
			t.Fatalf("Read after clearing the deadline: %q, %v", buf[:n], err)
		}
		// A deadline moved into the past unblocks a blocked Read (net/http does this).
		done := make(chan error, 1)
		go func() { _, err := c.Read(buf); done <- err }()
		time.Sleep(10 * time.Millisecond) // let Read block; it must return either way
		c.SetReadDeadline(time.Now().Add(-time.Second))
		if err := <-done; !isTimeout(err) {
			t.Fatalf("blocked Read after a past deadline: %v", err)
		}
		// Extending a deadline keeps a blocked Read waiting for its data.
		c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
		go func() { _, err := c.Read(buf); done <- err }()
		c.SetReadDeadline(time.Now().Add(testDeadline))
		time.Sleep(40 * time.Millisecond) // past the first deadline
		s.Write([]byte("x"))
		if err := <-done; err != nil {
			t.Fatalf("Read after extending its deadline: %v", err)
		}
		// A write deadline stops a Write to a peer that does not read, reporting
		// what was sent.
		c.SetWriteDeadline(time.Now().Add(50 * time.Millisecond))
		n, err := c.Write(make([]byte, 64<<20))
		if !isTimeout(err) || n >= 64<<20 {
			t.Fatalf("Write past deadline: %d, %v", n, err)
		}
		t.Logf("Write stopped by its deadline after %d bytes", n)
		// Accept deadline.
		ln.SetDeadline(time.Now().Add(20 * time.Millisecond))
		if _, err := ln.Accept(); !isTimeout(err) {
			t.Fatalf("Accept past deadline: %v", err)
		}
		ln.SetDeadline(time.Time{})
	})
}

// TestAdapterCloseInFlight closes a connection while a Read and a large Write are
// blocked on it: both return net.ErrClosed, and the descriptor goes away.
func TestAdapterCloseInFlight(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		ln := listenT(t, rt, "tcp", "127.0.0.1:0")
		srvc := acceptT(t, ln)
		c, err := Dial(ctxT(t), rt, "tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		<-srvc
		errs := make(chan error, 2)
		go func() { _, err := c.Read(make([]byte, 10)); errs <- err }()
		go func() { _, err := c.Write(make([]byte, 64<<20)); errs <- err }()
		time.Sleep(20 * time.Millisecond) // let both block; they must return either way
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 2; i++ {
			if err := <-errs; !errors.Is(err, net.ErrClosed) {
				t.Fatalf("blocked call after Close: %v, want net.ErrClosed", err)
			}
		}
		if err := c.Close(); !errors.Is(err, net.ErrClosed) {
			t.Fatalf("second Close: %v", err)
		}
	})
}

// TestAdapterErrorShapes checks that errors read like the net package's.
func TestAdapterErrorShapes(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		// A refused connection.
		ln := listenT(t, rt, "tcp", "127.0.0.1:0")
		addr := ln.Addr().String()
		ln.Close()
		_, err := Dial(ctxT(t), rt, "tcp", addr)
		var oe *net.OpError
		if !errors.As(err, &oe) || oe.Op != "dial" || oe.Net != "tcp" || !errors.Is(err, errConnRefused) {
			t.Fatalf("Dial to a closed port: %#v", err)
		}
		if oe.Addr == nil || oe.Addr.String() != addr {
			t.Fatalf("dial error names %v, want %s", oe.Addr, addr)
		}
		// Accept after Close.
		if _, err := ln.Accept(); !errors.Is(err, net.ErrClosed) || !errors.As(err, &oe) || oe.Op != "accept" {
			t.Fatalf("Accept after Close: %v", err)
		}
		// A cancelled dial reports the context's error.
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := Dial(ctx, rt, "tcp", "127.0.0.1:1"); !errors.Is(err, context.Canceled) {
			t.Fatalf("Dial with a cancelled context: %v", err)
		}
		// Listening on a used address.
		ln2 := listenT(t, rt, "tcp", "127.0.0.1:0")
		if _, err := Listen(ctxT(t), rt, "tcp", ln2.Addr().String()); !errors.Is(err, errAddrInUse) || !errors.As(err, &oe) || oe.Op != "listen" {
			t.Fatalf("Listen on a used address: %v", err)
		}
		// Unknown network.
		var une net.UnknownNetworkError
		if _, err := Dial(ctxT(t), rt, "sctp", "x:1"); !errors.As(err, &une) {
			t.Fatalf("Dial on sctp: %v", err)
		}
		// Read, Write and Close after Close; io.EOF as is.
		srvc := acceptT(t, ln2)
		c, err := Dial(ctxT(t), rt, "tcp", ln2.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		s := acceptedT(t, srvc)
		s.Close()
		if _, err := c.Read(make([]byte, 1)); err != io.EOF {
			t.Fatalf("Read after the peer closed: %#v, want io.EOF", err)
		}
		c.Close()
		for name, err := range map[string]error{
			"Read":  func() error { _, err := c.Read(make([]byte, 1)); return err }(),
			"Write": func() error { _, err := c.Write([]byte("x")); return err }(),
			"Close": c.Close(),
		} {
			if !errors.Is(err, net.ErrClosed) || !errors.As(err, &oe) {
				t.Errorf("%s after Close: %#v, want *net.OpError wrapping net.ErrClosed", name, err)
			}
		}
	})
}

// TestNetworks listens and dials on tcp4, tcp6, dual-stack tcp and Unix sockets
// (path and abstract); a path socket's file is removed at Close.
func TestNetworks(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		dir := testkit.TempDir(t)
		path := filepath.Join(dir, "s.sock")
		type netCase struct{ lnet, laddr, dnet, daddr string }
		cases := []netCase{
			{"tcp4", "127.0.0.1:0", "tcp4", ""},
			{"tcp6", "[::1]:0", "tcp6", ""},
			{"tcp", ":0", "tcp4", "127.0.0.1"},
			{"tcp", ":0", "tcp6", "::1"},
		}
		if err := unixSockets(); err != nil {
			t.Logf("Unix sockets not tried (Wine 8 has no AF_UNIX): %v", err)
		} else {
			cases = append(cases, netCase{"unix", path, "unix", path})
			if abstractUnix {
				cases = append(cases, netCase{"unix", "@znet-test-" + strconv.Itoa(os.Getpid()), "unix", ""})
			}
		}
		for _, tc := range cases {
			ln := listenT(t, rt, tc.lnet, tc.laddr)
			addr := ln.Addr().String()
			if tc.daddr != "" && tc.dnet != "unix" {
				_, port, _ := net.SplitHostPort(addr)
				addr = net.JoinHostPort(tc.daddr, port)
			}
			srvc := acceptT(t, ln)
			c := dialT(t, rt, tc.dnet, addr)
			s := acceptedT(t, srvc)
			c.Write([]byte("ping"))
			buf := make([]byte, 4)
			if _, err := io.ReadFull(s, buf); err != nil || string(buf) != "ping" {
				t.Fatalf("%s: read %q, %v", tc.lnet, buf, err)
			}
			if s.LocalAddr().Network() != c.RemoteAddr().Network() {
				t.Errorf("%s: addresses of different networks: %v %v", tc.lnet, s.LocalAddr(), c.RemoteAddr())
			}
			ln.Close()
		}
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Errorf("Unix socket file left after Close: %v", err)
		}
	})
}

// TestUDP exchanges datagrams between two PacketConns, with deadlines and Close
// unblocking a blocked read.
func TestUDP(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		for _, network := range []string{"udp4", "udp6", "udp"} {
			host := "127.0.0.1:0"
			if network == "udp6" {
				host = "[::1]:0"
			}
			a, err := ListenPacket(ctxT(t), rt, network, host)
			if err != nil {
				t.Fatal(err)
			}
			b, err := ListenPacket(ctxT(t), rt, network, host)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 10; i++ {
				msg := []byte("datagram " + strconv.Itoa(i))
				if n, err := a.WriteTo(msg, b.LocalAddr()); err != nil || n != len(msg) {
					t.Fatalf("%s WriteTo: %d, %v", network, n, err)
				}
				buf := make([]byte, 100)
				n, from, err := b.ReadFrom(buf)
				if err != nil || string(buf[:n]) != string(msg) {
					t.Fatalf("%s ReadFrom: %q, %v", network, buf[:n], err)
				}
				if from.(*net.UDPAddr).Port != a.LocalAddr().(*net.UDPAddr).Port {
					t.Fatalf("%s: datagram from %v, want %v", network, from, a.LocalAddr())
				}
			}
			b.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
			if _, _, err := b.ReadFrom(make([]byte, 10)); !isTimeout(err) {
				t.Fatalf("%s ReadFrom past deadline: %v", network, err)
			}
			b.SetReadDeadline(time.Time{})
			done := make(chan error, 1)
			go func() { _, _, err := b.ReadFrom(make([]byte, 10)); done <- err }()
			time.Sleep(10 * time.Millisecond) // let it block; it must return either way
			b.Close()
			if err := <-done; !errors.Is(err, net.ErrClosed) {
				t.Fatalf("%s ReadFrom after Close: %v", network, err)
			}
			a.Close()
		}
	})
}

// TestAdapterReadAhead: a peer that sends more than the read-ahead while nobody reads
// fills the NetConn's buffer, which stops receiving (the rest backs up in the kernel);
// reading then gets every byte, in order, and the receive resumes.
func TestAdapterReadAhead(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		ln := listenT(t, rt, "tcp", "127.0.0.1:0")
		srvc := acceptT(t, ln)
		c := dialT(t, rt, "tcp", ln.Addr().String())
		s := acceptedT(t, srvc)
		const total = 4 << 20
		data := make([]byte, total)
		for i := range data {
			data[i] = byte(i*7 + i>>12)
		}
		werr := make(chan error, 1)
		go func() { _, err := s.Write(data); werr <- err }()
		end := time.Now().Add(testDeadline)
		for !c.rr.isStalled() && !c.rr.isFallback() {
			if time.Now().After(end) {
				t.Fatalf("the reader never filled its read-ahead\n%s", hung())
			}
			time.Sleep(time.Millisecond)
		}
		got := make([]byte, 0, total)
		buf := make([]byte, 32<<10)
		for len(got) < total {
			n, err := c.Read(buf)
			if err != nil {
				t.Fatalf("Read after %d bytes: %v", len(got), err)
			}
			got = append(got, buf[:n]...)
		}
		if !bytes.Equal(got, data) {
			i := 0
			for i < total && got[i] == data[i] {
				i++
			}
			t.Fatalf("bytes differ from offset %d", i)
		}
		if err := <-werr; err != nil {
			t.Fatalf("peer's Write: %v", err)
		}
		s.Close()
		if n, err := c.Read(buf); n != 0 || err != io.EOF {
			t.Fatalf("Read after the peer closed: %d, %v; want 0, io.EOF", n, err)
		}
		if n, err := c.Read(buf); n != 0 || err != io.EOF {
			t.Fatalf("second Read at EOF: %d, %v; want 0, io.EOF", n, err)
		}
	})
}

// bufState reports how many bytes wait unread in the read-ahead and its capacity
// (tests).
func (r *netReader) bufState() (unread, capacity int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.buf) - r.off, cap(r.buf)
}

// TestAdapterReadAheadKeepsBuffer: a read-ahead buffer that grew past 64 KiB
// (a reader behind a pipelining peer) is kept when Read empties it, up to
// readKeepCap, so that the next burst does not allocate and grow it again (the old
// 64 KiB limit cost 0.19 allocations per message at 50 × 4 KiB p16 on epoll).
func TestAdapterReadAheadKeepsBuffer(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		ln := listenT(t, rt, "tcp", "127.0.0.1:0")
		srvc := acceptT(t, ln)
		c := dialT(t, rt, "tcp", ln.Addr().String())
		s := acceptedT(t, srvc)
		const burst = 160 << 10 // past 64 KiB, below readAhead: the receive keeps going
		data := make([]byte, burst)
		for i := range data {
			data[i] = byte(i*13 + i>>10)
		}
		buf := make([]byte, 32<<10)
		for round := range 3 {
			if _, err := s.Write(data); err != nil {
				t.Fatal(err)
			}
			end := time.Now().Add(testDeadline)
			for {
				if c.rr.isFallback() {
					t.Skipf("%s: the reader fell back to single receives", rt.Driver().Kind)
				}
				if unread, _ := c.rr.bufState(); unread == burst {
					break
				}
				if time.Now().After(end) {
					t.Fatalf("round %d: the read-ahead never held the whole burst\n%s", round, hung())
				}
				time.Sleep(time.Millisecond)
			}
			got := make([]byte, 0, burst)
			for len(got) < burst {
				n, err := c.Read(buf)
				if err != nil {
					t.Fatalf("round %d: Read after %d bytes: %v", round, len(got), err)
				}
				got = append(got, buf[:n]...)
			}
			if !bytes.Equal(got, data) {
				t.Fatalf("round %d: bytes differ", round)
			}
			if unread, capacity := c.rr.bufState(); unread != 0 || capacity < burst || capacity > 2*readKeepCap {
				t.Fatalf("round %d: drained read-ahead holds %d bytes in a buffer of %d; want 0 in one of %d to %d",
					round, unread, capacity, burst, 2*readKeepCap)
			}
		}
	})
}

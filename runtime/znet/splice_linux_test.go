package znet

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/zokio/zokio/poller"
	"github.com/zokio/zokio/runtime"
)

// spliceOn reports whether rt's first loop splices.
func spliceOn(rt *runtime.Runtime) bool {
	return rt.Loops()[0].Driver().Info().Features.Has(poller.FeatSplice)
}

func randomFile(t *testing.T, size int) (string, []byte) {
	t.Helper()
	data := make([]byte, size)
	r := rand.New(rand.NewPCG(uint64(size), 7))
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	name := filepath.Join(t.TempDir(), "data")
	if err := os.WriteFile(name, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return name, data
}

// readAllFrom reads c to EOF in the background.
func readAllFrom(c net.Conn) <-chan []byte {
	ch := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(c)
		ch <- b
	}()
	return ch
}

// TestReadFromFileLikeNet: io.Copy(conn, file) sends the file from its position, as
// it does to a net.TCPConn, and leaves the file position at the end; io.CopyN goes
// through an *io.LimitedReader and stops at its limit. Where the driver splices,
// the bytes went through splices.
func TestReadFromFileLikeNet(t *testing.T) {
	name, data := randomFile(t, 3<<20+123)
	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		nln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer nln.Close()
		for _, which := range []string{"net", "znet"} {
			acc := acceptT(t, nln)
			var c net.Conn
			if which == "net" {
				c, err = net.Dial("tcp", nln.Addr().String())
			} else {
				c, err = Dial(ctxT(t), rt, "tcp", nln.Addr().String())
			}
			if err != nil {
				t.Fatal(err)
			}
			c.SetDeadline(time.Now().Add(testDeadline))
			peer := acceptedT(t, acc)
			peer.SetDeadline(time.Now().Add(testDeadline))
			got := readAllFrom(peer)
			f, err := os.Open(name)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.Seek(1000, io.SeekStart); err != nil {
				t.Fatal(err)
			}
			before := splicedBytes.Load()
			n1, err := io.CopyN(c, f, 5000)
			if err != nil || n1 != 5000 {
				t.Fatalf("%s: CopyN: %d, %v", which, n1, err)
			}
			n2, err := io.Copy(c, f)
			if err != nil || n2 != int64(len(data)-6000) {
				t.Fatalf("%s: Copy: %d, %v; want %d", which, n2, err, len(data)-6000)
			}
			if pos, _ := f.Seek(0, io.SeekCurrent); pos != int64(len(data)) {
				t.Errorf("%s: file position %d after the copy, want %d", which, pos, len(data))
			}
			f.Close()
			c.Close()
			if b := <-got; !bytes.Equal(b, data[1000:]) {
				t.Fatalf("%s: the peer got %d bytes, not the file's %d from offset 1000", which, len(b), len(data)-1000)
			}
			if which == "znet" && spliceOn(rt) && splicedBytes.Load()-before != int64(len(data)-1000) {
				t.Errorf("spliced %d bytes, want all %d", splicedBytes.Load()-before, len(data)-1000)
			}
		}
	})
}

// TestWriteToFile: io.Copy(file, conn) writes what the peer sends, bytes read ahead
// before included, at the file's position, until the peer's EOF.
func TestWriteToFile(t *testing.T) {
	_, data := randomFile(t, 2<<20+77)
	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		ln := listenT(t, rt, "tcp", "127.0.0.1:0")
		acc := acceptT(t, ln)
		peer, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer peer.Close()
		c := (<-acc).(*NetConn)
		c.SetDeadline(time.Now().Add(testDeadline))
		go func() {
			peer.Write(data)
			peer.(*net.TCPConn).CloseWrite()
		}()
		head := make([]byte, 10)
		if _, err := io.ReadFull(c, head); err != nil || !bytes.Equal(head, data[:10]) {
			t.Fatalf("Read: %v", err)
		}
		f, err := os.Create(filepath.Join(t.TempDir(), "out"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		f.Write([]byte("prefix"))
		n, err := io.Copy(f, c)
		if err != nil || n != int64(len(data)-10) {
			t.Fatalf("Copy to the file: %d, %v; want %d", n, err, len(data)-10)
		}
		got, _ := os.ReadFile(f.Name())
		if !bytes.Equal(got, append([]byte("prefix"), data[10:]...)) {
			t.Fatalf("the file holds %d bytes, not the stream", len(got))
		}
		if k, err := c.Read(head); k != 0 || err != io.EOF {
			t.Errorf("Read after WriteTo: %d, %v; want EOF", k, err)
		}
	})
}

// TestSpliceProxy: a proxy that copies both ways between two connections on
// different loops (c1.WriteTo(c2) and back) carries a checksummed stream each way.
func TestSpliceProxy(t *testing.T) {
	forEachDriver(t, 2, func(t *testing.T, rt *runtime.Runtime) {
		back, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer back.Close()
		front := listenT(t, rt, "tcp", "127.0.0.1:0")
		bacc, facc := acceptT(t, back), acceptT(t, front)
		client, err := net.Dial("tcp", front.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer client.Close()
		in := (<-facc).(*NetConn)
		out, err := DialNetConn(ctxT(t), rt, "tcp", back.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer out.Close()
		if in.l == out.l {
			t.Fatalf("both proxy connections on one loop; the test wants two")
		}
		server := <-bacc
		for _, c := range []net.Conn{client, server, in, out} {
			c.SetDeadline(time.Now().Add(testDeadline))
		}
		errs := make(chan error, 2)
		go func() { _, err := in.WriteTo(out); out.CloseWrite(); errs <- err }()
		go func() { _, err := out.WriteTo(in); in.CloseWrite(); errs <- err }()
		up := bytes.Repeat([]byte("upstream-"), 400_000)
		down := bytes.Repeat([]byte("downstream-"), 300_000)
		go func() { client.Write(up); client.(*net.TCPConn).CloseWrite() }()
		go func() { server.Write(down); server.(*net.TCPConn).CloseWrite() }()
		gotUp, gotDown := readAllFrom(server), readAllFrom(client)
		if b := <-gotUp; sha256.Sum256(b) != sha256.Sum256(up) {
			t.Errorf("upstream: %d bytes arrived of %d, or others", len(b), len(up))
		}
		if b := <-gotDown; sha256.Sum256(b) != sha256.Sum256(down) {
			t.Errorf("downstream: %d bytes arrived of %d, or others", len(b), len(down))
		}
		for range 2 {
			if err := <-errs; err != nil {
				t.Errorf("WriteTo: %v", err)
			}
		}
	})
}

// TestSpliceDeadlineAndClose: a WriteTo that waits on its source ends at the read
// deadline with a timeout, and one in flight when the connection closes ends with
// net.ErrClosed; nothing leaks (the runtime's cleanup counts descriptors).
func TestSpliceDeadlineAndClose(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		ln := listenT(t, rt, "tcp", "127.0.0.1:0")
		acc := acceptT(t, ln)
		peer, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer peer.Close()
		c := (<-acc).(*NetConn)
		f, err := os.Create(filepath.Join(t.TempDir(), "out"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		var ne net.Error
		if _, err := c.WriteTo(f); !errors.As(err, &ne) || !ne.Timeout() {
			t.Fatalf("WriteTo past the read deadline: %v", err)
		}
		c.SetReadDeadline(time.Time{})
		sinkLn, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer sinkLn.Close()
		sacc := acceptT(t, sinkLn)
		d := dialT(t, rt, "tcp", sinkLn.Addr().String())
		sink := <-sacc
		sink.SetDeadline(time.Now().Add(testDeadline))
		done := make(chan error, 1)
		go func() { _, err := c.WriteTo(d); done <- err }()
		peer.Write([]byte("some"))
		// The bytes reach the sink: the WriteTo is running; now close under it.
		buf := make([]byte, 4)
		if _, err := io.ReadFull(sink, buf); err != nil || string(buf) != "some" {
			t.Fatalf("sink read %q, %v", buf, err)
		}
		c.Close()
		select {
		case err := <-done:
			if !errors.Is(err, net.ErrClosed) {
				t.Errorf("WriteTo at Close: %v", err)
			}
		case <-time.After(testDeadline):
			t.Fatalf("WriteTo did not return after Close\n%s", hung())
		}
	})
}

// TestReadFromOther: io.Copy from a reader that is neither a file nor a connection
// copies through a buffer.
func TestReadFromOther(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		ln := listenT(t, rt, "tcp", "127.0.0.1:0")
		acc := acceptT(t, ln)
		c := dialT(t, rt, "tcp", ln.Addr().String())
		peer := acceptedT(t, acc)
		peer.SetDeadline(time.Now().Add(testDeadline))
		got := readAllFrom(peer)
		msg := bytes.Repeat([]byte("x"), 100_000)
		if n, err := io.Copy(c, bytes.NewReader(msg)); err != nil || n != int64(len(msg)) {
			t.Fatalf("Copy: %d %v", n, err)
		}
		c.Close()
		if b := <-got; !bytes.Equal(b, msg) {
			t.Fatalf("peer got %d bytes", len(b))
		}
		var buf bytes.Buffer
		if _, err := c.WriteTo(&buf); !errors.Is(err, net.ErrClosed) {
			t.Errorf("WriteTo after Close: %v", err)
		}
	})
}

// TestHTTPFileServerSplices: net/http's FileServer on a Listener sends the file, and
// where the driver splices, all but its first 512 bytes through splices (net/http
// hands the rest of the file to the connection's ReadFrom).
func TestHTTPFileServerSplices(t *testing.T) {
	name, data := randomFile(t, 1<<20+5)
	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		ln := listenT(t, rt, "tcp", "127.0.0.1:0")
		// The server's last splice counts its bytes after the kernel took them, so the
		// client can have them all first: the count is read once the server has closed
		// the connection (the client asks it to), after the handler returned.
		closed := make(chan struct{}, 1)
		srv := &http.Server{Handler: http.FileServer(http.Dir(filepath.Dir(name))),
			ConnState: func(_ net.Conn, s http.ConnState) {
				if s == http.StateClosed {
					select {
					case closed <- struct{}{}:
					default:
					}
				}
			}}
		go srv.Serve(ln)
		defer srv.Close()
		before := splicedBytes.Load()
		client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: testDeadline}
		resp, err := client.Get("http://" + ln.Addr().String() + "/" + filepath.Base(name))
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || !bytes.Equal(body, data) {
			t.Fatalf("GET: %d bytes, %v", len(body), err)
		}
		select {
		case <-closed:
		case <-time.After(testDeadline):
			t.Fatal("the server did not close the connection")
		}
		// net/http writes the first 512 bytes itself (it sniffs them for the type).
		if spliceOn(rt) && splicedBytes.Load()-before < int64(len(data)-512) {
			t.Errorf("FileServer spliced %d bytes of %d", splicedBytes.Load()-before, len(data))
		}
	})
}

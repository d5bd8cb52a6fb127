package znet

import (
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/zokio/zokio/runtime"
)

// resetByPeer checks that err is what a send to a peer that reset the connection
// gets: EPIPE or ECONNRESET, in a *net.OpError with Op op ("write" where the copy
// went through a buffer, as ReadFrom documents).
func resetByPeer(t *testing.T, what string, err error, op string) {
	t.Helper()
	var oe *net.OpError
	if !errors.As(err, &oe) || oe.Op != op && oe.Op != "write" || !(errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET)) {
		t.Errorf("%s: %v; want a %q *net.OpError with EPIPE or ECONNRESET", what, err, op)
	}
}

// TestSpliceErrorsLikeNet: a copy into a connection whose peer reset it fails with
// EPIPE or ECONNRESET, as net.TCPConn.ReadFrom does, from a file and from another
// connection; WriteTo a pipe (no regular file)
// copies through a buffer.
func TestSpliceErrorsLikeNet(t *testing.T) {
	name, _ := randomFile(t, 8<<20)
	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		a, pa, b, pb := connPair(t, rt)
		pa.(*net.TCPConn).SetLinger(0)
		pa.Close() // a reset: a's sends fail

		nln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer nln.Close()
		acc := acceptT(t, nln)
		nc, err := net.Dial("tcp", nln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		np := acceptedT(t, acc)
		np.(*net.TCPConn).SetLinger(0)
		np.Close()
		for _, dst := range []io.ReaderFrom{nc.(*net.TCPConn), a} {
			f, err := os.Open(name)
			if err != nil {
				t.Fatal(err)
			}
			_, err = dst.ReadFrom(f)
			f.Close()
			resetByPeer(t, "ReadFrom(file) to a reset connection", err, "readfrom")
		}

		// b's peer streams into b; a, reset, cannot take it.
		go func() {
			buf := make([]byte, 64<<10)
			for i := 0; i < 128; i++ {
				if _, err := pb.Write(buf); err != nil {
					return
				}
			}
			pb.(*net.TCPConn).CloseWrite()
		}()
		_, err = a.ReadFrom(b)
		var oe *net.OpError
		if !errors.As(err, &oe) || !(errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET)) {
			t.Errorf("ReadFrom(*NetConn) to a reset connection: %v", err)
		}

		// WriteTo a pipe: no splice to it, the bytes still arrive.
		c, pc, _, _ := connPair(t, rt)
		pr, pw, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer pr.Close()
		got := make(chan []byte, 1)
		go func() {
			data, _ := io.ReadAll(pr)
			got <- data
		}()
		pc.Write([]byte("to a pipe"))
		pc.(*net.TCPConn).CloseWrite()
		n, err := c.WriteTo(pw)
		pw.Close()
		if data := <-got; err != nil || n != 9 || string(data) != "to a pipe" {
			t.Errorf("WriteTo(pipe): %d, %v; the pipe got %q", n, err, data)
		}
	})
}

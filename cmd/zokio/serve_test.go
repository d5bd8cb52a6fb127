package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/zokio/zokio/internal/testkit"
	"github.com/zokio/zokio/runtime/driver"
	"github.com/zokio/zokio/runtime/znet"
)

const deadline = 30 * time.Second

// startServer runs a demo server on driver k in the background and returns its
// address; cleanup stops it and checks that it returned cleanly.
func startServer(t *testing.T, name string, k driver.Kind, h znet.Handler) string {
	t.Helper()
	if k == driver.Uring {
		if _, err := driver.Choose(driver.Uring); err != nil {
			if os.Getenv("ZOKIO_REQUIRE_URING") != "" {
				t.Fatal(err)
			}
			t.Skip(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan net.Addr, 1)
	done := make(chan error, 1)
	var out bytes.Buffer
	f := &serverFlags{addr: "127.0.0.1:0", loops: 2, driver: string(k), accept: "auto"}
	go func() { done <- serve(ctx, name, f, h, &out, func(a net.Addr) { ready <- a }) }()
	var addr net.Addr
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("%s server: %v", name, err)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("%s server: %v", name, err)
		}
		if !strings.Contains(out.String(), "listening on "+addr.String()) || !strings.Contains(out.String(), ", 2 loops)") {
			t.Errorf("%s server said %q", name, out.String())
		}
	})
	return addr.String()
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, deadline)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(deadline))
	t.Cleanup(func() { c.Close() })
	return c
}

func TestEchoCommand(t *testing.T) {
	for _, k := range testkit.Drivers(t) {
		t.Run(string(k), func(t *testing.T) {
			addr := startServer(t, "echo", k, echoHandler{})
			for i := 0; i < 4; i++ {
				c := dial(t, addr)
				msg := bytes.Repeat([]byte{byte('a' + i)}, 1<<20)
				go c.Write(msg)
				got := make([]byte, len(msg))
				if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, msg) {
					t.Fatalf("echo: %v", err)
				}
			}
		})
	}
}

func TestHTTPCommand(t *testing.T) {
	for _, k := range testkit.Drivers(t) {
		t.Run(string(k), func(t *testing.T) {
			addr := startServer(t, "http", k, &httpHandler{})
			// net/http's client, keep-alive.
			tr := &http.Transport{}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr, Timeout: deadline}
			for i := 0; i < 100; i++ {
				resp, err := client.Get("http://" + addr + "/plaintext")
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || string(body) != "Hello, World!" || resp.Header.Get("Date") == "" {
					t.Fatalf("response %d %q %v", resp.StatusCode, body, resp.Header)
				}
			}
			// Pipelined: 16 requests in one write, one of them split from the next
			// write, a POST with a body, then HEAD and GET.
			c := dial(t, addr)
			var reqs bytes.Buffer
			for i := 0; i < 16; i++ {
				fmt.Fprintf(&reqs, "GET /%d HTTP/1.1\r\nHost: x\r\n\r\n", i)
			}
			reqs.WriteString("POST /p HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloHEAD / HTTP/1.1\r\n\r\nGET / HT")
			c.Write(reqs.Bytes())
			time.Sleep(10 * time.Millisecond) // so the rest arrives in another receive
			c.Write([]byte("TP/1.1\r\nConnection: close\r\n\r\n"))
			br := bufio.NewReader(c)
			want := []int{}
			for i := 0; i < 16; i++ {
				want = append(want, 200)
			}
			want = append(want, 405, 200, 200)
			for i, code := range want {
				method := "GET"
				if i == 17 {
					method = "HEAD"
				}
				resp, err := http.ReadResponse(br, &http.Request{Method: method})
				if err != nil {
					t.Fatalf("response %d: %v", i, err)
				}
				body, _ := io.ReadAll(resp.Body)
				if resp.StatusCode != code {
					t.Fatalf("response %d: status %d, want %d (%q)", i, resp.StatusCode, code, body)
				}
			}
			if _, err := br.ReadByte(); err != io.EOF {
				t.Fatalf("after Connection: close: %v, want EOF", err)
			}
			// HTTP/1.0 closes; errors close.
			for req, status := range map[string]string{
				"GET / HTTP/1.0\r\n\r\n":                                "200",
				"GET / HTTP/2.0\r\n\r\n":                                "505",
				"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n": "501",
				"garbage\r\n\r\n":                                       "400",
			} {
				c := dial(t, addr)
				c.Write([]byte(req))
				all, err := io.ReadAll(c)
				if err != nil || !strings.HasPrefix(string(all), "HTTP/1.1 "+status) {
					t.Errorf("%q: got %q, %v", req, all, err)
				}
			}
		})
	}
}

// TestHTTPZeroAlloc checks that a keep-alive request/response allocates nothing.
func TestHTTPZeroAlloc(t *testing.T) {
	for _, k := range testkit.Drivers(t) {
		t.Run(string(k), func(t *testing.T) {
			addr := startServer(t, "http", k, &httpHandler{})
			c := dial(t, addr)
			req := []byte("GET /plaintext HTTP/1.1\r\nHost: localhost\r\n\r\n")
			resp := make([]byte, len(respHead)+29+len(respEnd))
			roundTrip := func() {
				if _, err := c.Write(req); err != nil {
					t.Fatal(err)
				}
				if _, err := io.ReadFull(c, resp); err != nil {
					t.Fatal(err)
				}
			}
			for i := 0; i < 100; i++ {
				roundTrip()
			}
			if !bytes.HasSuffix(resp, []byte("Hello, World!")) {
				t.Fatalf("response %q", resp)
			}
			// A Date change allocates once a second; allow for one in the run.
			if n := testing.AllocsPerRun(2000, roundTrip); n > 0.01 {
				t.Errorf("%v allocations per request", n)
			}
		})
	}
}

func TestServerFlags(t *testing.T) {
	for _, args := range [][]string{{"-accept=sideways"}, {"-driver=carrier-pigeon"}, {"-nope"}} {
		if _, _, code := runCmd(t, append([]string{"echo"}, args...)...); code == 0 {
			t.Errorf("echo %v succeeded", args)
		}
	}
}

// TestHTTPKeepAlive checks each response's Connection header against what happens to
// the connection, over TCP (issue 15, item 8): an HTTP/1.0 request with
// "Connection: keep-alive" is answered "Connection: keep-alive" and the connection
// serves the next request; without it, and an HTTP/1.1 "Connection: close", the
// response says "Connection: close" and the server closes.
func TestHTTPKeepAlive(t *testing.T) {
	for _, k := range testkit.Drivers(t) {
		t.Run(string(k), func(t *testing.T) {
			addr := startServer(t, "http", k, &httpHandler{})
			for _, tc := range []struct {
				reqs []string // sent one after another on one connection
				conn []string // each response's Connection header
			}{
				{[]string{"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", "HEAD / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", "GET / HTTP/1.0\r\n\r\n"}, []string{"keep-alive", "keep-alive", "close"}},
				{[]string{"POST / HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nhi", "GET / HTTP/1.0\r\nConnection: close\r\n\r\n"}, []string{"keep-alive", "close"}},
				{[]string{"GET / HTTP/1.0\r\n\r\n"}, []string{"close"}},
				{[]string{"GET / HTTP/1.1\r\n\r\n", "GET / HTTP/1.1\r\nConnection: keep-alive\r\n\r\n", "GET / HTTP/1.1\r\nConnection: close\r\n\r\n"}, []string{"", "", "close"}},
			} {
				c := dial(t, addr)
				br := bufio.NewReader(c)
				for i, req := range tc.reqs {
					if _, err := c.Write([]byte(req)); err != nil {
						t.Fatalf("%q: %v", req, err)
					}
					method := strings.Fields(req)[0]
					resp, err := http.ReadResponse(br, &http.Request{Method: method})
					if err != nil {
						t.Fatalf("%q: %v", req, err)
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					// ReadResponse takes "Connection: close" out of the header into Close.
					got := resp.Header.Get("Connection")
					if resp.Close {
						got = "close"
					}
					if !strings.EqualFold(got, tc.conn[i]) {
						t.Errorf("%q: Connection %q, want %q", req, got, tc.conn[i])
					}
				}
				// The server closed after the last response, which said close; every
				// other connection is still open. (A closed one reads EOF at once; an open
				// one answers one more request.)
				if tc.conn[len(tc.conn)-1] == "close" {
					if b, err := br.ReadByte(); err != io.EOF {
						t.Errorf("%q: after Connection: close read %q, %v; want EOF", tc.reqs, b, err)
					}
				} else {
					c.Write([]byte("GET / HTTP/1.1\r\nConnection: close\r\n\r\n"))
					resp, err := http.ReadResponse(br, &http.Request{Method: "GET"})
					if err != nil || resp.StatusCode != 200 {
						t.Fatalf("%q: the connection kept alive does not serve: %v", tc.reqs, err)
					}
					resp.Body.Close()
				}
				c.Close()
			}
		})
	}
}

// TestHTTPApacheBench runs ApacheBench, an HTTP/1.0 client, with keep-alive (ab -k)
// against `zokio http`: every request completes on a kept-alive connection. Before
// the server said "Connection: keep-alive", ab waited for each close and timed out.
func TestHTTPApacheBench(t *testing.T) {
	ab, err := exec.LookPath("ab")
	if err != nil {
		t.Skip("ab (apache2-utils) is not installed")
	}
	addr := startServer(t, "http", driver.Epoll, &httpHandler{})
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	out, err := exec.CommandContext(ctx, ab, "-k", "-q", "-n", "2000", "-c", "8", "-s", "10", "http://"+addr+"/").CombinedOutput()
	if err != nil {
		t.Fatalf("ab -k: %v\n%s", err, out)
	}
	for _, want := range []string{"Complete requests:      2000", "Failed requests:        0", "Keep-Alive requests:    2000"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("ab -k output lacks %q:\n%s", want, out)
		}
	}
}

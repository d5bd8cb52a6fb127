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
		if !strings.Contains(out.String(), "listening on "+addr.String()) {
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

// Command httpserver is bench/net's plaintext HTTP server for the contenders that are
// not Zokio's (`zokio http` is ours): -impl=nethttp (net/http) or -impl=fasthttp, each
// answering every request with "Hello, World!" and the headers `zokio http` sends. It
// prints "ready <addr>" once it listens and exits on SIGTERM.
package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/valyala/fasthttp"
)

var hello = []byte("Hello, World!")

func main() {
	impl := flag.String("impl", "nethttp", "nethttp or fasthttp")
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	flag.Parse()
	ln, err := net.Listen("tcp4", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "httpserver:", err)
		os.Exit(1)
	}
	go func() {
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, syscall.SIGTERM, syscall.SIGINT)
		<-ch
		os.Exit(0)
	}()
	fmt.Printf("ready %s\n", ln.Addr())
	switch *impl {
	case "nethttp":
		err = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h["Server"] = []string{"nethttp"}
			h["Content-Type"] = []string{"text/plain"}
			w.Write(hello)
		}))
	case "fasthttp":
		s := &fasthttp.Server{Name: "fasthttp", Handler: func(ctx *fasthttp.RequestCtx) {
			ctx.SetContentType("text/plain")
			ctx.Write(hello)
		}}
		err = s.Serve(ln)
	default:
		err = fmt.Errorf("-impl=%q: want nethttp or fasthttp", *impl)
	}
	fmt.Fprintln(os.Stderr, "httpserver:", err)
	os.Exit(1)
}

// Command httpserver is bench/net's plaintext HTTP server for the contenders that are
// not `zokio http` (ours, on the event API): -impl=nethttp (net/http) or
// -impl=fasthttp, each answering every request with "Hello, World!" and the headers
// `zokio http` sends. -net=znet serves net/http on runtime/znet's net.Listener
// (-driver, -loops) instead of Go's net; -tls serves HTTPS with a self-signed
// certificate made at start-up. It prints "ready <addr>" once it listens and exits on
// SIGTERM.
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"flag"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/zokio/zokio/runtime"
	"github.com/zokio/zokio/runtime/driver"
	"github.com/zokio/zokio/runtime/znet"
)

var hello = []byte("Hello, World!")

func main() {
	impl := flag.String("impl", "nethttp", "nethttp or fasthttp")
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	netw := flag.String("net", "go", "listener for -impl=nethttp: go (Go's net) or znet (runtime/znet's adapters)")
	drv := flag.String("driver", "uring", "-net=znet: uring or epoll")
	loops := flag.Int("loops", 0, "-net=znet: loops (0: one per CPU)")
	useTLS := flag.Bool("tls", false, "serve HTTPS (crypto/tls) with a self-signed certificate")
	flag.BoolVar(&unlocked, "unlocked", false, "-net=znet: runtime.Options.UnlockedLoops")
	flag.DurationVar(&batchWait, "batchwait", batchWait, "-net=znet: runtime.Options.BatchWait (0: off)")
	flag.Parse()
	ln, err := listen(*netw, *addr, *drv, *loops)
	if err != nil {
		fmt.Fprintln(os.Stderr, "httpserver:", err)
		os.Exit(1)
	}
	if *useTLS {
		cert, err := selfSigned()
		if err != nil {
			fmt.Fprintln(os.Stderr, "httpserver:", err)
			os.Exit(1)
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}})
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
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h["Server"] = []string{"nethttp"}
			h["Content-Type"] = []string{"text/plain"}
			w.Write(hello)
		})}
		if *useTLS {
			// wrk closes the connections of a run's last handshakes: not worth a line each.
			srv.ErrorLog = log.New(io.Discard, "", 0)
		}
		err = srv.Serve(ln)
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

// batchWait is -batchwait: how long a loop may wait for a batch of completions.
var batchWait time.Duration

// unlocked is -unlocked: runtime.Options.UnlockedLoops.
var unlocked bool

// listen opens the listener -net names.
func listen(netw, addr, drv string, loops int) (net.Listener, error) {
	switch netw {
	case "go":
		return net.Listen("tcp4", addr)
	case "znet":
		kind, err := driver.ParseKind(drv)
		if err != nil {
			return nil, err
		}
		rt, err := runtime.New(runtime.Options{Loops: loops, Driver: kind, BatchWait: batchWait, UnlockedLoops: unlocked})
		if err != nil {
			return nil, err
		}
		return znet.Listen(context.Background(), rt, "tcp4", addr)
	}
	return nil, fmt.Errorf("-net=%q: want go or znet", netw)
}

// selfSigned makes a P-256 certificate for 127.0.0.1, valid for a day.
func selfSigned() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "bench"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// Command idleclient opens -conns connections to a server, sends one 64-byte message
// on each and reads its echo (so the server has served every connection once), prints
// "ready", then holds them idle until its stdin closes. Source addresses rotate over
// 127.0.0.1..N so that ports do not run short.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
)

func main() {
	addr := flag.String("addr", "", "server address")
	conns := flag.Int("conns", 10000, "connections")
	sources := flag.Int("sources", 8, "source addresses 127.0.0.1..N")
	flag.Parse()
	held := make([]net.Conn, *conns)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 128)
	var mu sync.Mutex
	var firstErr error
	for i := range held {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(1+i%*sources))}}
			c, err := d.Dial("tcp4", *addr)
			if err == nil {
				msg := make([]byte, 64)
				if _, err = c.Write(msg); err == nil {
					_, err = io.ReadFull(c, msg)
				}
			}
			if err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
				return
			}
			held[i] = c
		}()
	}
	wg.Wait()
	if firstErr != nil {
		fmt.Fprintln(os.Stderr, "idleclient:", firstErr)
		os.Exit(1)
	}
	fmt.Println("ready")
	bufio.NewReader(os.Stdin).ReadString('\n')
	for _, c := range held {
		c.(*net.TCPConn).SetLinger(0) // no TIME_WAIT left behind for the next run
		c.Close()
	}
}

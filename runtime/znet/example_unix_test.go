//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package znet_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/zokio/zokio/runtime"
	"github.com/zokio/zokio/runtime/znet"
)

// The refused dial's text is that of Linux and the BSDs ("connect: connection
// refused"); Windows words it as Winsock does ("connectex: No connection could be
// made ...").

// Dial connects with a context; the connection is a net.Conn, and a refused
// connection reads like the net package's error.
func ExampleDial() {
	rt, err := runtime.New(runtime.Options{Loops: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer rt.Close(context.Background())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	go func() {
		c, err := ln.Accept()
		if err == nil {
			io.Copy(c, c)
			c.Close()
		}
	}()
	c, err := znet.Dial(context.Background(), rt, "tcp", ln.Addr().String())
	if err != nil {
		fmt.Println(err)
		return
	}
	c.Write([]byte("ping"))
	buf := make([]byte, 4)
	io.ReadFull(c, buf)
	fmt.Println(string(buf))
	c.Close()

	addr := ln.Addr().String()
	ln.Close()
	_, err = znet.Dial(context.Background(), rt, "tcp", addr)
	fmt.Println(strings.Replace(err.Error(), addr, "ADDR", 1))
	// Output:
	// ping
	// dial tcp ADDR: connect: connection refused
}

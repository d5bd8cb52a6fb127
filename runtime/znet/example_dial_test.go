package znet_test

import (
	"context"
	"fmt"
	"io"
	"syscall"
	"time"

	"github.com/zokio/zokio/runtime"
	"github.com/zokio/zokio/runtime/znet"
)

// Dialer and ListenConfig take the options of net.Dialer and net.ListenConfig: a
// Control hook on the new socket, keep-alive, a timeout. The connections have
// net.TCPConn's option setters too.
func ExampleDialer() {
	rt, err := runtime.New(runtime.Options{Loops: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer rt.Close(context.Background())
	ctx := context.Background()

	lc := znet.ListenConfig{KeepAlive: 30 * time.Second} // for accepted connections
	ln, err := lc.Listen(ctx, rt, "tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		io.Copy(c, c) // echo
	}()

	d := znet.Dialer{
		Timeout:   5 * time.Second,
		KeepAlive: -1, // no keep-alive probes on this one
		Control: func(network, address string, c syscall.RawConn) error {
			fmt.Println("new socket for", network)
			return nil
		},
	}
	c, err := d.DialNetConn(ctx, rt, "tcp", ln.Addr().String())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	if err := c.SetNoDelay(false); err != nil { // Nagle on, as with net.TCPConn
		fmt.Println(err)
	}
	c.Write([]byte("hello"))
	c.CloseWrite()
	b, err := io.ReadAll(c)
	fmt.Println(string(b), err)
	// Output:
	// new socket for tcp4
	// hello <nil>
}

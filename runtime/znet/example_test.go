package znet_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"

	"github.com/zokio/zokio/runtime"
	"github.com/zokio/zokio/runtime/znet"
)

// upper is an event-API handler: it answers every chunk it receives in upper case.
// Its methods run on the connection's loop; Write copies into the connection's send
// buffer, and what OnData wrote leaves in one send when it returns.
type upper struct{}

func (upper) OnOpen(c *znet.Conn) {}

func (upper) OnData(c *znet.Conn, data []byte) {
	for i, b := range data {
		if 'a' <= b && b <= 'z' {
			data[i] = b - 'a' + 'A' // data is ours until OnData returns
		}
	}
	c.Write(data)
}

func (upper) OnClose(c *znet.Conn, err error) {}

// Serve runs a server on the event API: here an upper-casing echo, reached with Go's
// net package.
func ExampleServe() {
	rt, err := runtime.New(runtime.Options{Loops: 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer rt.Close(context.Background())
	srv, err := znet.Serve(context.Background(), rt, "tcp", "127.0.0.1:0", znet.Config{Handler: upper{}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close(context.Background())

	c, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	c.Write([]byte("hello, zokio"))
	buf := make([]byte, 12)
	io.ReadFull(c, buf)
	fmt.Println(string(buf))
	// Output: HELLO, ZOKIO
}

// Listen gives a net.Listener whose connections run on the runtime's loops: net/http
// serves on it unchanged.
func ExampleListen() {
	rt, err := runtime.New(runtime.Options{Loops: 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer rt.Close(context.Background())
	ln, err := znet.Listen(context.Background(), rt, "tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from %s", r.URL.Path)
	})}
	go srv.Serve(ln)
	defer srv.Shutdown(context.Background())

	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Get("http://" + ln.Addr().String() + "/zokio")
	if err != nil {
		fmt.Println(err)
		return
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.Status, string(body))
	// Output: 200 OK hello from /zokio
}

// ListenPacket gives a net.PacketConn for UDP.
func ExampleListenPacket() {
	rt, err := runtime.New(runtime.Options{Loops: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer rt.Close(context.Background())
	a, err := znet.ListenPacket(context.Background(), rt, "udp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer a.Close()
	b, err := znet.ListenPacket(context.Background(), rt, "udp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer b.Close()
	a.WriteTo([]byte("datagram"), b.LocalAddr())
	buf := make([]byte, 64)
	n, from, _ := b.ReadFrom(buf)
	fmt.Println(string(buf[:n]), from.String() == a.LocalAddr().String())
	// Output: datagram true
}

// forward echoes without copying: the received buffer itself goes into the send queue
// and back to the loop's receive group once the kernel has taken its bytes.
type forward struct{}

func (forward) OnOpen(c *znet.Conn) {}

func (forward) OnData(c *znet.Conn, data []byte) {
	r := c.Retain()
	if _, err := c.WriteRetained(&r); err != nil {
		r.Release() // refused (closed, or over the write-buffer limit): still ours
		c.Close()
	}
}

func (forward) OnClose(c *znet.Conn, err error) {}

// Conn.WriteRetained sends a received buffer as is — how a proxy forwards bytes
// between two connections of one loop. (Below 2 KiB it copies: that is cheaper.)
func ExampleConn_WriteRetained() {
	rt, err := runtime.New(runtime.Options{Loops: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer rt.Close(context.Background())
	srv, err := znet.Serve(context.Background(), rt, "tcp", "127.0.0.1:0", znet.Config{Handler: forward{}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close(context.Background())

	c, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	msg := strings.Repeat("zokio ", 1000) // 6000 bytes: above the copy size
	go c.Write([]byte(msg))
	buf := make([]byte, len(msg))
	_, err = io.ReadFull(c, buf)
	fmt.Println(err, string(buf) == msg)
	// Output: <nil> true
}

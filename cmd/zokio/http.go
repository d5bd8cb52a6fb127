package main

import (
	"flag"
	"io"
	"sync/atomic"
	"time"

	"github.com/zokio/zokio/runtime/znet"
)

func init() {
	commands = append(commands,
		command{"http", "a plaintext hello-world HTTP/1.1 server on the event API", runHTTP})
}

func runHTTP(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("http", flag.ContinueOnError)
	fs.SetOutput(stdout)
	var f serverFlags
	f.register(fs, "127.0.0.1:8080")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	ctx, stop := untilSignal()
	defer stop()
	return serve(ctx, "http", &f, &httpHandler{}, stdout, nil)
}

// httpHandler answers every GET or HEAD with "Hello, World!" (the TechEmpower
// plaintext response), keeps connections alive, and answers pipelined requests in
// order; everything a batch of pipelined requests asks for leaves in one send. The
// request parser and its limits are in httpparse.go. Steady state allocates nothing:
// the per-connection state is made at OnOpen, the responses are written from
// preformatted pieces and a Date cached per second.
type httpHandler struct{}

// httpConn is a connection's state: a request split across receives, and how much
// of a request body is still to be skipped.
type httpConn struct {
	partial []byte
	skip    int
}

var (
	respHead  = []byte("HTTP/1.1 200 OK\r\nServer: zokio\r\nContent-Type: text/plain\r\nContent-Length: 13\r\nDate: ")
	respEnd   = []byte("\r\n\r\nHello, World!")
	respEndHd = []byte("\r\n\r\n")
	respClose = []byte("\r\nConnection: close\r\n\r\nHello, World!")
	respCloHd = []byte("\r\nConnection: close\r\n\r\n")
	// An HTTP/1.0 client keeps a connection only when the response says so.
	respKA   = []byte("\r\nConnection: keep-alive\r\n\r\nHello, World!")
	respKAHd = []byte("\r\nConnection: keep-alive\r\n\r\n")
	resp405  = []byte("HTTP/1.1 405 Method Not Allowed\r\nServer: zokio\r\nAllow: GET, HEAD\r\nContent-Length: 0\r\nDate: ")
)

// OnOpen gives the connection its state, the one allocation per connection.
func (*httpHandler) OnOpen(c *znet.Conn) { c.SetContext(&httpConn{}) }

// OnClose does nothing: the state goes with the connection.
func (*httpHandler) OnClose(*znet.Conn, error) {}

// OnData parses and answers every complete request in data, carrying a partial one
// over to the next receive.
func (h *httpHandler) OnData(c *znet.Conn, data []byte) {
	st := c.Context().(*httpConn)
	carried := len(st.partial) > 0
	if carried {
		st.partial = append(st.partial, data...)
		data = st.partial
	}
	for len(data) > 0 {
		if st.skip > 0 { // the body of the request answered last
			n := min(st.skip, len(data))
			st.skip -= n
			data = data[n:]
			continue
		}
		req, err := parseRequest(data)
		if err == errIncomplete {
			break
		}
		if err != nil {
			writeError(c, err)
			_ = c.Close()
			st.partial = st.partial[:0]
			return
		}
		data = data[req.size:]
		st.skip = req.bodyLen
		respond(c, &req)
		if req.close {
			_ = c.Close()
			st.partial = st.partial[:0]
			return
		}
	}
	// Keep what is left of a request for the next receive: data is either a suffix
	// of st.partial (copy moves it to the front) or the receive buffer's view.
	if carried {
		st.partial = st.partial[:copy(st.partial, data)]
	} else {
		st.partial = append(st.partial[:0], data...)
	}
}

// respond writes the answer to one request into the connection's send buffer. A
// response that closes the connection says "Connection: close"; one that keeps an
// HTTP/1.0 connection (the client asked with "Connection: keep-alive") says
// "Connection: keep-alive", without which the client would wait for the close.
func respond(c *znet.Conn, req *request) {
	date := httpDate()
	end, endHd := respEnd, respEndHd
	switch {
	case req.close:
		end, endHd = respClose, respCloHd
	case req.http10:
		end, endHd = respKA, respKAHd
	}
	switch {
	case !req.get:
		_, _ = c.Writev(resp405, date, endHd)
	case req.head:
		_, _ = c.Writev(respHead, date, endHd)
	default:
		_, _ = c.Writev(respHead, date, end)
	}
}

// writeError answers a request the parser refused; the caller closes.
func writeError(c *znet.Conn, err error) {
	status := "400 Bad Request"
	switch err {
	case errTooLarge:
		status = "431 Request Header Fields Too Large"
	case errUnsupported:
		status = "501 Not Implemented"
	case errVersion:
		status = "505 HTTP Version Not Supported"
	}
	_, _ = c.Write([]byte("HTTP/1.1 " + status + "\r\nServer: zokio\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
}

// dateBuf is a formatted Date header value and the second it is for.
type dateBuf struct {
	sec int64
	b   [29]byte // len("Mon, 02 Jan 2006 15:04:05 GMT")
}

var dateCache atomic.Pointer[dateBuf]

// httpDate returns the Date header value for now, formatting it at most once a
// second (loops share it; a race only formats it twice).
func httpDate() []byte {
	now := time.Now()
	d := dateCache.Load()
	if d == nil || d.sec != now.Unix() {
		nd := &dateBuf{sec: now.Unix()}
		now.UTC().AppendFormat(nd.b[:0], "Mon, 02 Jan 2006 15:04:05 GMT")
		dateCache.Store(nd)
		d = nd
	}
	return d.b[:]
}

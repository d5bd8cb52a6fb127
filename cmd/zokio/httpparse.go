package main

import (
	"bytes"
	"errors"
)

// A small HTTP/1.x request parser for `zokio http`, enough for a hello-world server
// under benchmark load: it reads the request line and the headers in place, without
// allocating, and keeps only what the server acts on.
//
// Limits (by design; a real server wants net/http over znet.Listen):
//   - the request line and headers must fit in maxHeader bytes (else 431);
//   - only Content-Length bodies are understood, and they are skipped unread;
//     Transfer-Encoding (chunked uploads) is answered 501 and the connection closed;
//   - headers other than Connection, Content-Length and Transfer-Encoding are not
//     interpreted, obs-fold continuation lines are refused, and the target is not
//     decoded (every path gets the same answer);
//   - HTTP/1.1 keeps the connection open unless "Connection: close"; HTTP/1.0 closes
//     it unless "Connection: keep-alive", and then the response says "Connection:
//     keep-alive" (an HTTP/1.0 client waits for the close otherwise). Pipelined
//     requests are answered in order.

// maxHeader bounds the request line plus headers.
const maxHeader = 8 << 10

// request is what the server needs from one parsed request.
type request struct {
	size    int  // bytes of the request line and headers, the blank line included
	bodyLen int  // Content-Length
	get     bool // GET or HEAD: the methods served
	head    bool // HEAD: the response has no body
	close   bool // the connection closes after the response
	http10  bool // the request was HTTP/1.0
}

var (
	errIncomplete  = errors.New("incomplete request")
	errBadRequest  = errors.New("malformed request")
	errTooLarge    = errors.New("request header too large")
	errUnsupported = errors.New("transfer encoding not supported")
	errVersion     = errors.New("HTTP version not supported")
)

var crlfcrlf = []byte("\r\n\r\n")

// parseRequest parses the request at the start of b. It returns errIncomplete when b
// holds only part of the headers.
func parseRequest(b []byte) (request, error) {
	var r request
	end := bytes.Index(b, crlfcrlf)
	if end < 0 {
		if len(b) > maxHeader {
			return r, errTooLarge
		}
		return r, errIncomplete
	}
	if end+4 > maxHeader {
		return r, errTooLarge
	}
	r.size = end + 4
	hdr := b[:end+2] // every line, each with its CRLF
	line, rest, ok := nextLine(hdr)
	if !ok {
		return r, errBadRequest
	}
	if err := r.requestLine(line); err != nil {
		return r, err
	}
	for len(rest) > 0 {
		if line, rest, ok = nextLine(rest); !ok {
			return r, errBadRequest
		}
		if err := r.header(line); err != nil {
			return r, err
		}
	}
	return r, nil
}

// nextLine splits off one CRLF-terminated line.
func nextLine(b []byte) (line, rest []byte, ok bool) {
	i := bytes.IndexByte(b, '\n')
	if i < 1 || b[i-1] != '\r' {
		return nil, nil, false
	}
	return b[:i-1], b[i+1:], true
}

// requestLine parses "METHOD SP target SP HTTP/1.x".
func (r *request) requestLine(line []byte) error {
	sp1 := bytes.IndexByte(line, ' ')
	if sp1 <= 0 {
		return errBadRequest
	}
	method := line[:sp1]
	rest := line[sp1+1:]
	sp2 := bytes.IndexByte(rest, ' ')
	if sp2 <= 0 {
		return errBadRequest
	}
	switch string(rest[sp2+1:]) { // no allocation: the compiler compares in place
	case "HTTP/1.1":
	case "HTTP/1.0":
		r.http10, r.close = true, true
	default:
		if bytes.HasPrefix(rest[sp2+1:], []byte("HTTP/")) {
			return errVersion
		}
		return errBadRequest
	}
	switch string(method) {
	case "GET":
		r.get = true
	case "HEAD":
		r.get, r.head = true, true
	}
	return nil
}

// header interprets one header line.
func (r *request) header(line []byte) error {
	colon := bytes.IndexByte(line, ':')
	if colon <= 0 || line[0] == ' ' || line[0] == '\t' {
		return errBadRequest // no name, or an obs-fold continuation
	}
	name, value := line[:colon], trimOWS(line[colon+1:])
	switch {
	case equalFold(name, "connection"):
		if hasToken(value, "close") {
			r.close = true
		} else if hasToken(value, "keep-alive") {
			r.close = false
		}
	case equalFold(name, "content-length"):
		n, ok := parseLength(value)
		if !ok {
			return errBadRequest
		}
		r.bodyLen = n
	case equalFold(name, "transfer-encoding"):
		return errUnsupported
	}
	return nil
}

func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// equalFold compares an ASCII header name with a lower-case constant.
func equalFold(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// hasToken reports whether a comma-separated header value lists tok (any case).
func hasToken(v []byte, tok string) bool {
	for len(v) > 0 {
		i := bytes.IndexByte(v, ',')
		part := v
		if i >= 0 {
			part, v = v[:i], v[i+1:]
		} else {
			v = nil
		}
		if equalFold(trimOWS(part), tok) {
			return true
		}
	}
	return false
}

// parseLength parses a Content-Length value: digits only, at most 1 GiB.
func parseLength(v []byte) (int, bool) {
	if len(v) == 0 || len(v) > 10 {
		return 0, false
	}
	n := 0
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, n <= 1<<30
}

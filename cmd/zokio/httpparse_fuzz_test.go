package main

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzParseRequest: the HTTP parser never panics, returns only its own errors, and a
// request it accepts is self-consistent: it ends with the blank line inside the input,
// and parsing just those bytes, or those bytes followed by anything (a pipelined next
// request), gives the same request.
func FuzzParseRequest(f *testing.F) {
	for _, s := range []string{
		"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
		"HEAD /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
		"POST /p HTTP/1.1\r\nContent-Length: 12\r\n\r\nhello world!",
		"GET / HTTP/1.1\r\nconnection: upgrade, CLOSE\r\nContent-Length: 1073741824\r\n\r\n",
		"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
		"GET / HTTP/2.0\r\n\r\n",
		"GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n",
		"GET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := parseRequest(b)
		switch {
		case err == nil:
		case errors.Is(err, errIncomplete):
			if bytes.Contains(b, crlfcrlf) || len(b) > maxHeader {
				t.Fatalf("incomplete, yet the input has a blank line or is too large: %q", b)
			}
			return
		case errors.Is(err, errBadRequest), errors.Is(err, errTooLarge),
			errors.Is(err, errUnsupported), errors.Is(err, errVersion):
			return
		default:
			t.Fatalf("unexpected error %v", err)
		}
		if r.size < 4 || r.size > len(b) || r.size > maxHeader || !bytes.Equal(b[r.size-4:r.size], crlfcrlf) {
			t.Fatalf("request size %d in %d bytes: %q", r.size, len(b), b)
		}
		if r.bodyLen < 0 || r.bodyLen > 1<<30 || (r.head && !r.get) {
			t.Fatalf("inconsistent request %+v", r)
		}
		head := b[:r.size:r.size]
		if r2, err := parseRequest(head); err != nil || r2 != r {
			t.Fatalf("the request's own bytes parse as %+v, %v; want %+v", r2, err, r)
		}
		if r3, err := parseRequest(append(head, "GET / HTTP/9\r\n\r\nx"...)); err != nil || r3 != r {
			t.Fatalf("followed by more bytes it parses as %+v, %v; want %+v", r3, err, r)
		}
	})
}

package main

import "testing"

func TestParseRequest(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want request
		err  error
	}{
		{in: "GET / HTTP/1.1\r\nHost: x\r\n\r\n", want: request{size: 27, get: true}},
		{in: "HEAD /a HTTP/1.1\r\n\r\n", want: request{size: 20, get: true, head: true}},
		{in: "GET / HTTP/1.0\r\n\r\n", want: request{size: 18, get: true, close: true, http10: true}},
		{in: "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", want: request{size: 42, get: true, http10: true}},
		{in: "GET / HTTP/1.1\r\nconnection: upgrade, CLOSE\r\n\r\n", want: request{size: 46, get: true, close: true}},
		{in: "POST /p HTTP/1.1\r\nContent-Length: 12\r\n\r\nhello world!", want: request{size: 40, bodyLen: 12}},
		{in: "GET / HTTP/1.1\r\nHost: x\r\n", err: errIncomplete},
		{in: "GET / HTTP/1.1\r\n", err: errIncomplete},
		{in: "", err: errIncomplete},
		{in: "GET / HTTP/2.0\r\n\r\n", err: errVersion},
		{in: "GET /\r\n\r\n", err: errBadRequest},
		{in: "GET / HTTP/1.1\nHost: x\r\n\r\n", err: errBadRequest},
		{in: "GET / HTTP/1.1\r\nNoColon\r\n\r\n", err: errBadRequest},
		{in: "GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n", err: errBadRequest},
		{in: "GET / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", err: errBadRequest},
		{in: "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", err: errUnsupported},
		{in: "GET / HTTP/1.1\r\nX: " + string(make([]byte, maxHeader)) + "\r\n\r\n", err: errTooLarge},
	} {
		got, err := parseRequest([]byte(tc.in))
		if err != tc.err || (err == nil && got != tc.want) {
			t.Errorf("parseRequest(%q) = %+v, %v; want %+v, %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestParseRequestAllocs(t *testing.T) {
	req := []byte("GET /plaintext HTTP/1.1\r\nHost: localhost\r\nAccept: text/plain\r\nConnection: keep-alive\r\n\r\n")
	if n := testing.AllocsPerRun(1000, func() { parseRequest(req) }); n != 0 {
		t.Errorf("parseRequest allocates %v times", n)
	}
}

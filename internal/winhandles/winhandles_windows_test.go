package winhandles

import (
	"net"
	"os"
	"testing"

	"go.uber.org/goleak"
	"golang.org/x/sys/windows"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// warm makes Go's runtime create its netpoll port before a count is taken.
func warm(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
}

// TestCountKinds sees a port, a socket and a file (the test binary, opened: t.TempDir's
// cleanup fails under Wine) each counted under its own kind,
// and each gone from the count once closed.
func TestCountKinds(t *testing.T) {
	warm(t)
	before := Count()
	port, err := windows.CreateIoCompletionPort(windows.InvalidHandle, 0, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	during := Count()
	windows.CloseHandle(port)
	ln.Close()
	f.Close()
	after := Count()
	want := Counts{Sockets: before.Sockets + 1, Files: before.Files + 1, Ports: before.Ports + 1}
	if during != want || after != before {
		t.Fatalf("counts: before %+v, open %+v (want %+v), closed %+v", before, during, want, after)
	}
}

// TestCountPastAGap counts a file whose handle lies above many freed ones: the scan
// goes past the highest value it has seen open.
func TestCountPastAGap(t *testing.T) {
	warm(t)
	before := Count()
	var events []windows.Handle
	for range 3000 {
		e, err := windows.CreateEvent(nil, 0, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, e)
	}
	_ = Count() // sees the table at its highest
	f, err := os.Open(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, e := range events {
		windows.CloseHandle(e)
	}
	if got := Count(); got.Files != before.Files+1 {
		t.Fatalf("files: %d with one more open above %d freed handles, want %d", got.Files, len(events), before.Files+1)
	}
}

// TestIdentity names a socket and a file by what they are, and nothing once closed.
func TestIdentity(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(os.Args[0])
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	raw, err := ln.(*net.TCPListener).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var sock windows.Handle
	raw.Control(func(fd uintptr) { sock = windows.Handle(fd) })
	file := windows.Handle(f.Fd())
	sid, fid := Identity(sock), Identity(file)
	if want := "socket 127.0.0.1:"; len(sid) < len(want) || sid[:len(want)] != want {
		t.Errorf("listener: %q, want %s<port>", sid, want)
	}
	if len(fid) < 5 || fid[:5] != "file " {
		t.Errorf("file: %q, want file <volume:index>", fid)
	}
	ln.Close()
	f.Close()
	if id := Identity(sock); id == sid {
		t.Errorf("closed listener still named %q", id)
	}
	if id := Identity(file); id == fid {
		t.Errorf("closed file still named %q", id)
	}
}

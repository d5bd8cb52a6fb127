//go:build darwin || dragonfly || freebsd || netbsd || openbsd || (linux && libkqueue)

package kqueue

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/zokio/zokio/poller"
)

// TestFullEventListLosesNoEdge: more descriptors turn ready at once than one kevent
// wait can report, each readable and writable. With EV_CLEAR, an edge that does not
// fit in the event list must come back at the next wait, as a kernel kqueue keeps it
// queued; every receive completes. libkqueue as released drops the kevents that do
// not fit (one epoll event becomes a read and a write kevent), so these edges were
// lost for good and the receives waited forever: CI builds it with
// .ci/libkqueue-full-event-list.patch, and this test fails without it.
func TestFullEventListLosesNoEdge(t *testing.T) {
	const conns = 16
	d, err := New(Config{MaxEvents: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var pairs [conns][2]int
	for i := range pairs {
		if pairs[i], err = socketpair(); err != nil {
			t.Fatal(err)
		}
		defer unix.Close(pairs[i][0])
		defer unix.Close(pairs[i][1])
	}
	got := map[int]int32{}
	done := func(op *poller.Op) { got[op.Fd] = op.Res }
	for i := range pairs {
		op := &poller.Op{Code: poller.OpRecv, Fd: pairs[i][0], Buf: make([]byte, 8), Done: done}
		if err := d.Submit(op); err != nil {
			t.Fatalf("Submit: %v", err)
		}
	}
	// Registration, and the writable edges it reports, before any byte is sent.
	for range 4 {
		if _, err := d.Wait(0); err != nil {
			t.Fatalf("Wait: %v", err)
		}
	}
	if len(got) != 0 {
		t.Fatalf("receives on idle sockets completed: %v", got)
	}
	for i := range pairs {
		if _, err := unix.Write(pairs[i][1], []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	end := time.Now().Add(10 * time.Second)
	for len(got) < conns && time.Now().Before(end) {
		if _, err := d.Wait(100 * time.Millisecond); err != nil {
			t.Fatalf("Wait: %v", err)
		}
	}
	for i := range pairs {
		if r, ok := got[pairs[i][0]]; !ok || r != 1 {
			t.Errorf("socket %d of %d: receive %v (completed: %v), want 1 byte", i, conns, r, ok)
		}
	}
}

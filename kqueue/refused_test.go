//go:build darwin || dragonfly || freebsd || netbsd || openbsd || (linux && libkqueue)

package kqueue

import (
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/zokio/zokio/poller"
)

// TestRefusedRegistrationFailsOps: ops that would block queue on their descriptor, and
// the driver batches the descriptor's registration into its next kevent call. When the
// descriptor is closed behind the driver's back before then, the kernel refuses the
// change with EBADF; every op queued on it (a recv, and a poll in its own queue) must
// complete with that error once, rather than wait for readiness that will never be
// reported. The driver stays usable.
func TestRefusedRegistrationFailsOps(t *testing.T) {
	d, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	fds, err := socketpair()
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fds[1])
	res := map[poller.Opcode][]int32{}
	done := func(op *poller.Op) { res[op.Code] = append(res[op.Code], op.Res) }
	recv := &poller.Op{Code: poller.OpRecv, Fd: fds[0], Buf: make([]byte, 8), Done: done}
	poll := &poller.Op{Code: poller.OpPoll, Fd: fds[0], Arg: unix.POLLPRI, Done: done}
	for _, op := range []*poller.Op{recv, poll} {
		if err := d.Submit(op); err != nil {
			t.Fatalf("Submit(%v): %v", op.Code, err)
		}
	}
	if len(res) != 0 {
		t.Fatalf("ops on an idle socket completed at once: %v", res)
	}
	if err := unix.Close(fds[0]); err != nil {
		t.Fatal(err)
	}
	end := time.Now().Add(10 * time.Second)
	for len(res[poller.OpRecv])+len(res[poller.OpPoll]) < 2 && time.Now().Before(end) {
		if _, err := d.Wait(100 * time.Millisecond); err != nil {
			t.Fatalf("Wait: %v", err)
		}
	}
	ebadf := -int32(syscall.EBADF)
	if r, p := res[poller.OpRecv], res[poller.OpPoll]; len(r) != 1 || r[0] != ebadf || len(p) != 1 || p[0] != ebadf {
		t.Fatalf("after the refused registration: recv %v, poll %v; want one %d each", r, p, ebadf)
	}
	// The descriptor's record was reset: a new socket that gets the same number works.
	fds2, err := socketpair()
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fds2[0])
	defer unix.Close(fds2[1])
	recv2 := &poller.Op{Code: poller.OpRecv, Fd: fds2[0], Buf: make([]byte, 8), Done: done}
	if err := d.Submit(recv2); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Wait(0); err != nil {
		t.Fatal(err)
	}
	if _, err := unix.Write(fds2[1], []byte("hi")); err != nil {
		t.Fatal(err)
	}
	for len(res[poller.OpRecv]) < 2 && time.Now().Before(end) {
		if _, err := d.Wait(100 * time.Millisecond); err != nil {
			t.Fatalf("Wait: %v", err)
		}
	}
	if r := res[poller.OpRecv]; len(r) != 2 || r[1] != 2 {
		t.Fatalf("recv on the new socket: %v, want 2 bytes", r)
	}
}

// socketpair returns a connected non-blocking stream pair (darwin has no SOCK_NONBLOCK).
func socketpair() ([2]int, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		return fds, err
	}
	for _, fd := range fds {
		unix.CloseOnExec(fd)
		if err := unix.SetNonblock(fd, true); err != nil {
			unix.Close(fds[0])
			unix.Close(fds[1])
			return fds, err
		}
	}
	return fds, nil
}

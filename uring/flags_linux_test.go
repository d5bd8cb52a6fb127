package uring

import (
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestLinkChain writes, syncs and reads back in one linked chain.
func TestLinkChain(t *testing.T) {
	r := newRing(t, Config{Entries: 4})
	f := tempFile(t, nil)
	fd := int(f.Fd())
	out, in := []byte("linked"), make([]byte, 6)
	if !r.Reserve(3) {
		t.Fatal("no room for the chain")
	}
	s := sqe(t, r)
	s.PrepWrite(fd, out, 0)
	s.SetFlags(SQEIOLink)
	s.SetUserData(1)
	s = sqe(t, r)
	s.PrepFsync(fd, FsyncDatasync)
	s.SetFlags(SQEIOLink)
	s.SetUserData(2)
	s = sqe(t, r)
	s.PrepRead(fd, in, 0)
	s.SetUserData(3)
	cqes := reap(t, r, 3)
	for i, want := range []int32{6, 0, 6} {
		if cqes[i].UserData != uint64(i+1) || cqes[i].Res != want {
			t.Fatalf("chain CQEs out of order or failed: %+v", cqes)
		}
	}
	if string(in) != "linked" {
		t.Fatalf("read %q", in)
	}
	runtime.KeepAlive(out)
}

// TestLinkBroken fails the head of a chain: the rest is cancelled.
func TestLinkBroken(t *testing.T) {
	r := newRing(t, Config{Entries: 4})
	buf := make([]byte, 4)
	s := sqe(t, r)
	s.PrepRead(-1, buf, 0)
	s.SetFlags(SQEIOLink)
	s.SetUserData(1)
	s = sqe(t, r)
	s.PrepNop()
	s.SetUserData(2)
	got := byUserData(t, reap(t, r, 2))
	wantRes(t, got[1], errnoRes(unix.EBADF))
	wantRes(t, got[2], errnoRes(unix.ECANCELED))
}

// TestHardlink fails the head of a hard-linked chain: the rest still runs.
func TestHardlink(t *testing.T) {
	r := newRing(t, Config{Entries: 4})
	buf := make([]byte, 4)
	s := sqe(t, r)
	s.PrepRead(-1, buf, 0)
	s.SetFlags(SQEIOHardlink)
	s.SetUserData(1)
	s = sqe(t, r)
	s.PrepNop()
	s.SetUserData(2)
	got := byUserData(t, reap(t, r, 2))
	wantRes(t, got[1], errnoRes(unix.EBADF))
	wantRes(t, got[2], 0)
}

// TestDrain holds a drained NOP back until the timer before it fires.
func TestDrain(t *testing.T) {
	r := newRing(t, Config{Entries: 4})
	ts := NewTimespec(20 * time.Millisecond)
	s := sqe(t, r)
	s.PrepTimeout(&ts, 0, 0)
	s.SetUserData(1)
	s = sqe(t, r)
	s.PrepNop()
	s.SetFlags(SQEIODrain)
	s.SetUserData(2)
	cqes := reap(t, r, 2)
	if cqes[0].UserData != 1 || cqes[1].UserData != 2 {
		t.Fatalf("drained NOP overtook the timer: %+v", cqes)
	}
	runtime.KeepAlive(&ts)
}

func TestAsyncFlag(t *testing.T) {
	r := newRing(t, Config{Entries: 4})
	f := tempFile(t, []byte("from a worker"))
	buf := make([]byte, 32)
	s := sqe(t, r)
	s.PrepRead(int(f.Fd()), buf, 0)
	s.SetFlags(SQEAsync)
	s.SetUserData(1)
	c := reapOne(t, r, 1)
	if string(buf[:c.Res]) != "from a worker" {
		t.Fatalf("async read %q", buf[:max(c.Res, 0)])
	}
}

func TestFixedFile(t *testing.T) {
	r := newRing(t, Config{Entries: 4})
	if err := r.RegisterFilesSparse(8); err != nil {
		t.Fatal(err)
	}
	a, b := socketPair(t, unix.SOCK_STREAM)
	if n, err := r.RegisterFilesUpdate(5, []int32{int32(a), RegisterFilesSkip, int32(b)}); n != 3 || err != nil {
		t.Fatalf("RegisterFilesUpdate = %d, %v", n, err)
	}
	msg, buf := []byte("fixed"), make([]byte, 8)
	s := sqe(t, r)
	s.PrepSend(5, msg, 0)
	s.SetFlags(SQEFixedFile)
	s.SetUserData(1)
	s = sqe(t, r)
	s.PrepRecv(7, buf, 0)
	s.SetFlags(SQEFixedFile)
	s.SetUserData(2)
	got := byUserData(t, reap(t, r, 2))
	wantRes(t, got[1], 5)
	wantRes(t, got[2], 5)
	if string(buf[:5]) != "fixed" {
		t.Fatalf("recv %q", buf[:5])
	}
	if err := r.UnregisterFiles(); err != nil {
		t.Fatal(err)
	}
	runtime.KeepAlive(msg)
}

// TestCQESkipSuccess posts no CQE for a successful SQE, but does for a
// failed one.
func TestCQESkipSuccess(t *testing.T) {
	r := newRing(t, Config{Entries: 4})
	if r.Features()&FeatCQESkip == 0 {
		t.Skip("kernel lacks IORING_FEAT_CQE_SKIP")
	}
	buf := make([]byte, 4)
	s := sqe(t, r)
	s.PrepNop()
	s.SetFlags(SQECQESkipSuccess)
	s.SetUserData(1)
	s = sqe(t, r)
	s.PrepRead(-1, buf, 0)
	s.SetFlags(SQECQESkipSuccess)
	s.SetUserData(2)
	s = sqe(t, r)
	s.PrepNop()
	s.SetUserData(3)
	got := byUserData(t, reap(t, r, 2))
	if _, ok := got[1]; ok {
		t.Fatalf("skipped NOP posted a CQE: %+v", got)
	}
	wantRes(t, got[2], errnoRes(unix.EBADF))
	wantRes(t, got[3], 0)
	noMoreCQEs(t, r)
}

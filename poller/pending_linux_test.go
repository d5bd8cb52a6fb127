package poller

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TestEpollCloseCancelsPendingFileOps fills the worker pool (one worker, one job) with
// an openat that blocks on a FIFO, so that later file ops on another descriptor wait in
// the driver. Cancel of one of them and an OpClose of their descriptor must complete
// them with ECANCELED without their ever running (the file keeps its size), the close
// must not wait for the blocked worker, and the blocked openat must still deliver its
// descriptor once a writer comes.
func TestEpollCloseCancelsPendingFileOps(t *testing.T) {
	d := newTestEpoll(t, EpollConfig{Workers: 1, MaxQueuedFileOps: 1})
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	open := newRecord(Op{Code: OpOpenat, Fd: unix.AT_FDCWD, Path: fifo, Arg: unix.O_RDONLY | unix.O_CLOEXEC})
	submit(t, d, &open.op)
	t.Cleanup(func() { // on a failure, release the worker so that Close can end
		if !open.final() {
			if w, err := unix.Open(fifo, unix.O_WRONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0); err == nil {
				unix.Close(w)
			}
		}
	})
	fd, name := tempFile(t, "0123456789")
	trunc := newRecord(Op{Code: OpFtruncate, Fd: fd, Len: 2})
	sync := newRecord(Op{Code: OpFsync, Fd: fd})
	alloc := newRecord(Op{Code: OpFallocate, Fd: fd, Len: 1 << 20})
	for _, r := range []*record{trunc, sync, alloc} {
		submit(t, d, &r.op)
	}
	if err := d.Cancel(&trunc.op); err != nil {
		t.Fatalf("Cancel of a pending ftruncate: %v", err)
	}
	cl := newRecord(Op{Code: OpClose, Fd: fd})
	submit(t, d, &cl.op)
	waitUntil(t, d, "the close and the cancelled ops", func() bool {
		return cl.final() && trunc.final() && sync.final() && alloc.final()
	})
	canceled := -int32(unix.ECANCELED)
	for _, r := range []*record{trunc, sync, alloc} {
		if res := r.res(t); res != canceled {
			t.Errorf("pending %v: res %d, want ECANCELED", r.op.Code, res)
		}
	}
	if res := cl.res(t); res != 0 {
		t.Errorf("close: res %d", res)
	}
	if open.final() {
		t.Fatalf("the openat of a FIFO without a writer completed: %+v", open.got)
	}
	if fi, err := os.Stat(name); err != nil || fi.Size() != 10 {
		t.Fatalf("after the cancelled ops the file is %v, %v; want 10 bytes", fi, err)
	}
	// A writer releases the worker: the openat completes with a descriptor.
	wrote := make(chan error, 1)
	go func() {
		w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err == nil {
			err = w.Close()
		}
		wrote <- err
	}()
	waitUntil(t, d, "the FIFO's openat", open.final)
	if err := <-wrote; err != nil {
		t.Fatal(err)
	}
	rfd := open.res(t)
	if rfd < 0 {
		t.Fatalf("openat of the FIFO: %d", rfd)
	}
	unix.Close(int(rfd))
}

// TestEpollPollUnpollable: a poll for an event a regular file never reports is not
// ready at once, and epoll cannot watch a regular file: the op completes with EPERM
// rather than wait forever, and the descriptor stays usable.
func TestEpollPollUnpollable(t *testing.T) {
	d := newTestEpoll(t, EpollConfig{})
	fd, _ := tempFile(t, "x")
	for _, flags := range []OpFlags{0, FlagMultishot} {
		p := newRecord(Op{Code: OpPoll, Fd: fd, Arg: unix.POLLPRI, Flags: flags})
		submit(t, d, &p.op)
		waitUntil(t, d, "poll", p.final)
		if res := p.res(t); res != -int32(unix.EPERM) {
			t.Fatalf("poll(POLLPRI, flags %#x) of a regular file: res %d, want EPERM", flags, res)
		}
	}
	// A poll for what a file always is (readable) completes at once.
	p := newRecord(Op{Code: OpPoll, Fd: fd, Arg: unix.POLLIN})
	if res := run(t, d, p); res&unix.POLLIN == 0 {
		t.Fatalf("poll(POLLIN) of a regular file: res %#x", res)
	}
}

// TestEpollMultishotPollReadyAtStart: a multishot poll of a descriptor that is ready
// already reports that at once, stays armed, and reports the next event too.
func TestEpollMultishotPollReadyAtStart(t *testing.T) {
	d := newTestEpoll(t, EpollConfig{})
	a, b := socketpair(t)
	if _, err := unix.Write(b, []byte("x")); err != nil {
		t.Fatal(err)
	}
	p := newRecord(Op{Code: OpPoll, Fd: a, Arg: unix.POLLIN, Flags: FlagMultishot})
	submit(t, d, &p.op)
	waitUntil(t, d, "the first poll event", func() bool { return len(p.got) > 0 })
	if c := p.got[0]; c.Res&unix.POLLIN == 0 || c.Result&ResMore == 0 {
		t.Fatalf("first event %+v, want POLLIN with ResMore", c)
	}
	buf := make([]byte, 4)
	if _, err := unix.Read(a, buf); err != nil {
		t.Fatal(err)
	}
	n := len(p.got)
	if _, err := unix.Write(b, []byte("y")); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, d, "the next poll event", func() bool { return len(p.got) > n })
	if err := d.Cancel(&p.op); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, d, "the final completion", p.final)
	checkMultishot(t, p)
}

// TestEpollConfigRange: a negative MaxEvents is refused with EINVAL.
func TestEpollConfigRange(t *testing.T) {
	for _, cfg := range []EpollConfig{{MaxEvents: -1}, {MaxEvents: 1 << 40}} {
		if d, err := NewEpoll(cfg); !errors.Is(err, unix.EINVAL) {
			if d != nil {
				d.Close()
			}
			t.Errorf("NewEpoll(%+v) = %v, want EINVAL", cfg, err)
		}
	}
}

// TestEpollVectoredStream: readv and writev on a stream go through readiness like
// read and write: a readv on an empty socket waits, a writev from the peer wakes it,
// and the bytes land across its buffers in order.
func TestEpollVectoredStream(t *testing.T) {
	d := newTestEpoll(t, EpollConfig{})
	a, b := socketpair(t)
	p1, p2 := make([]byte, 3), make([]byte, 8)
	rv := newRecord(Op{Code: OpReadv, Fd: b, Bufs: [][]byte{p1, p2}, Offset: -1})
	submit(t, d, &rv.op)
	if _, err := d.Wait(0); err != nil {
		t.Fatal(err)
	}
	if rv.final() {
		t.Fatalf("readv of an empty socket completed: %+v", rv.got)
	}
	wv := newRecord(Op{Code: OpWritev, Fd: a, Bufs: [][]byte{[]byte("abc"), nil, []byte("defg")}, Offset: -1})
	submit(t, d, &wv.op)
	waitUntil(t, d, "writev and readv", func() bool { return rv.final() && wv.final() })
	if res := wv.res(t); res != 7 {
		t.Fatalf("writev = %d", res)
	}
	if res := rv.res(t); res != 7 || string(p1) != "abc" || string(p2[:4]) != "defg" {
		t.Fatalf("readv = %d %q %q", res, p1, p2)
	}
}

// TestEpollConnectErrors: a connect the kernel refuses at once completes with that
// errno (a Unix socket path that does not exist: ENOENT), and connecting a socket that
// is connected already fails with EISCONN, not success.
func TestEpollConnectErrors(t *testing.T) {
	d := newTestEpoll(t, EpollConfig{})
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	closeOnCleanup(t, fd)
	var sa Sockaddr
	path := filepath.Join(t.TempDir(), "nobody")
	// SAFETY: Raw is 8-byte aligned and larger than RawSockaddrUnix.
	un := (*unix.RawSockaddrUnix)(unsafe.Pointer(&sa.Raw[0]))
	un.Family = unix.AF_UNIX
	for i := range len(path) {
		un.Path[i] = int8(path[i])
	}
	sa.Len = uint32(2 + len(path) + 1)
	r := newRecord(Op{Code: OpConnect, Fd: fd, Addr: &sa})
	if res := run(t, d, r); res != -int32(unix.ENOENT) {
		t.Fatalf("connect to a missing path = %d, want ENOENT", res)
	}
	_, addr := listenTCP(t)
	cfd := tcpSocket(t)
	con := newRecord(Op{Code: OpConnect, Fd: cfd, Addr: &addr})
	if res := run(t, d, con); res != 0 {
		t.Fatalf("connect: %d", res)
	}
	again := newRecord(Op{Code: OpConnect, Fd: cfd, Addr: &addr})
	if res := run(t, d, again); res != -int32(unix.EISCONN) {
		t.Fatalf("second connect = %d, want EISCONN", res)
	}
}

// TestEpollLinkAfterStreamOps: a chain goes on after a complete writev and a
// MSG_WAITALL send, and breaks after a short readv (its successor gets ECANCELED),
// as io_uring's links do.
func TestEpollLinkAfterStreamOps(t *testing.T) {
	d := newTestEpoll(t, EpollConfig{})
	a, b := socketpair(t)
	wv := newRecord(Op{Code: OpWritev, Fd: a, Bufs: [][]byte{[]byte("ab"), []byte("cd")}, Offset: -1, Flags: FlagLink})
	afterWritev := newRecord(Op{Code: OpNop})
	send := newRecord(Op{Code: OpSend, Fd: a, Buf: []byte("ef"), Arg: MsgWaitAll, Flags: FlagLink})
	afterSend := newRecord(Op{Code: OpNop})
	for _, r := range []*record{wv, afterWritev, send, afterSend} {
		submit(t, d, &r.op)
	}
	waitUntil(t, d, "the writes' chains", func() bool { return afterWritev.final() && afterSend.final() })
	if wv.res(t) != 4 || afterWritev.res(t) != 0 || send.res(t) != 2 || afterSend.res(t) != 0 {
		t.Fatalf("writev %d then nop %d; send %d then nop %d", wv.res(t), afterWritev.res(t), send.res(t), afterSend.res(t))
	}
	rv := newRecord(Op{Code: OpReadv, Fd: b, Bufs: [][]byte{make([]byte, 4), make([]byte, 8)}, Offset: -1, Flags: FlagLink})
	afterReadv := newRecord(Op{Code: OpNop})
	submit(t, d, &rv.op)
	submit(t, d, &afterReadv.op)
	waitUntil(t, d, "the readv's chain", afterReadv.final)
	if rv.res(t) != 6 || afterReadv.res(t) != -int32(unix.ECANCELED) {
		t.Fatalf("short readv %d then nop %d, want 6 then ECANCELED", rv.res(t), afterReadv.res(t))
	}
}

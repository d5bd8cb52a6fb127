package pollertest

import (
	"errors"
	"os"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/zokio/zokio/poller"
)

// Scenarios with buffers past 32 bits and past poller.MaxRW (issue 15, items 4 and 5),
// and more buffers than poller.MaxBufs.
func init() {
	register("HugeBuffers", testHugeBuffers)
}

// hugeBuffer maps size bytes that cost no memory until touched (MAP_NORESERVE; untouched
// pages read as zeros). It skips under -short, as the caller then moves gigabytes.
func hugeBuffer(t *testing.T, size int) []byte {
	t.Helper()
	if testing.Short() {
		t.Skip("gigabyte buffers; skipped under -short")
	}
	b, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_NORESERVE)
	if err != nil {
		t.Skipf("mapping %d bytes: %v", size, err)
	}
	t.Cleanup(func() { _ = unix.Munmap(b) })
	return b
}

// testHugeBuffers: an op whose buffers hold more than poller.MaxRW bytes is refused at
// Submit with an *InvalidOpError (never sent with its length cut to 32 bits, which
// made 4 GiB + 16 bytes a 16-byte op), and is not left in flight; an op of exactly
// MaxRW is taken and its full count reported.
func testHugeBuffers(t *testing.T, nd NewDriver) {
	const over = 1<<32 + 16
	buf := hugeBuffer(t, over)
	h, fds := start(t, nd), newFDs(t)
	a, _ := fds.streamPair()
	r, w := fds.pipe()
	noop := func(*poller.Op) {}
	cases := []struct {
		name string
		op   poller.Op
	}{
		{"read", poller.Op{Code: poller.OpRead, Fd: r, Buf: buf, Offset: -1}},
		{"write", poller.Op{Code: poller.OpWrite, Fd: w, Buf: buf, Offset: -1}},
		{"write MaxRW+1", poller.Op{Code: poller.OpWrite, Fd: w, Buf: buf[:poller.MaxRW+1], Offset: -1}},
		{"recv", poller.Op{Code: poller.OpRecv, Fd: a, Buf: buf}},
		{"send", poller.Op{Code: poller.OpSend, Fd: a, Buf: buf}},
		{"send 2 GiB", poller.Op{Code: poller.OpSend, Fd: a, Buf: buf[:1<<31]}},
		{"send_zc", poller.Op{Code: poller.OpSendZC, Fd: a, Buf: buf}},
		{"readv", poller.Op{Code: poller.OpReadv, Fd: r, Bufs: [][]byte{buf[:1<<30], buf[:1<<30], buf[:1<<30]}, Offset: -1}},
		{"writev", poller.Op{Code: poller.OpWritev, Fd: w, Bufs: [][]byte{buf[:poller.MaxRW], buf[:1]}, Offset: -1}},
		{"sendmsg", poller.Op{Code: poller.OpSendmsg, Fd: a, Bufs: [][]byte{buf}}},
		{"recvmsg", poller.Op{Code: poller.OpRecvmsg, Fd: a, Bufs: [][]byte{buf[:1<<31], buf[:1<<31]}}},
		{"writev MaxBufs+1", poller.Op{Code: poller.OpWritev, Fd: w, Bufs: make([][]byte, poller.MaxBufs+1), Offset: -1}},
		{"readv MaxBufs+1", poller.Op{Code: poller.OpReadv, Fd: r, Bufs: append(make([][]byte, poller.MaxBufs), buf[:1]), Offset: -1}},
		{"sendmsg MaxBufs+1", poller.Op{Code: poller.OpSendmsg, Fd: a, Bufs: append(make([][]byte, poller.MaxBufs), buf[:1])}},
	}
	for _, c := range cases {
		op := c.op
		op.Done = noop
		err := h.d.Submit(&op)
		var ie *poller.InvalidOpError
		if !errors.As(err, &ie) || !errors.Is(err, syscall.EINVAL) {
			t.Errorf("%s: Submit = %v, want an *InvalidOpError", c.name, err)
		}
		if op.InFlight() {
			t.Fatalf("%s: refused op left in flight", c.name)
		}
	}

	// Exactly MaxRW bytes: /dev/null takes them all in one call, and the count comes
	// back whole.
	null, err := unix.Open(os.DevNull, unix.O_WRONLY|unix.O_CLOEXEC, 0)
	fatalIf(t, err, "open %s", os.DevNull)
	fds.add(null)
	wr := h.run(newRec(t, poller.Op{Code: poller.OpWrite, Fd: null, Buf: buf[:poller.MaxRW], Offset: -1}))
	if n := wr.ok(); n != poller.MaxRW {
		t.Errorf("write of MaxRW bytes to %s = %d, want %d", os.DevNull, n, poller.MaxRW)
	}
	// A receive into a MaxRW buffer gets what is pending.
	c, d := fds.streamPair()
	msg := []byte("sixteen bytes...")
	write(t, d, msg)
	rd := h.run(newRec(t, poller.Op{Code: poller.OpRecv, Fd: c, Buf: buf[:poller.MaxRW]}))
	if n := rd.ok(); string(buf[:n]) != string(msg) {
		t.Errorf("recv into MaxRW bytes = %q, want %q", buf[:n], msg)
	}
	// A buffer group of buffers over 1 GiB is refused by every driver alike.
	// (A group lives until its driver closes, so a wrongly accepted one goes then.)
	if _, err := h.d.NewBufferGroup(1, 1<<30+1); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("NewBufferGroup(1, 1 GiB + 1) = %v, want EINVAL", err)
	}
	// The driver still works.
	h.run(newRec(t, poller.Op{Code: poller.OpNop})).ok()
}

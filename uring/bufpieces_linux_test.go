package uring

import (
	"bytes"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/zokio/zokio/poller"
)

// piece is one completion of a multishot receive into a buffer group.
type piece struct {
	res  int32
	more bool // ResMore
	buf  bool // ResBuffer
	id   uint16
	off  uint32
	data string
}

// streamPair returns a connected pair of Unix stream sockets, closed at the test's end.
func streamPair(t *testing.T) [2]int {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fds[0]); unix.Close(fds[1]) })
	return fds
}

// recvPieces arms a multishot receive on fd into g and returns the op and the pieces
// it delivered so far.
func recvPieces(t *testing.T, d *Driver, fd int, g poller.BufferGroup) (*poller.Op, *[]piece) {
	t.Helper()
	got := &[]piece{}
	op := &poller.Op{Code: poller.OpRecv, Fd: fd, Flags: poller.FlagMultishot | poller.FlagBufferSelect,
		Group: g.ID(), Done: func(op *poller.Op) {
			p := piece{res: op.Res, more: op.More(), buf: op.Result&poller.ResBuffer != 0, id: op.BufID, off: op.BufOff}
			p.data = string(op.Received(g))
			*got = append(*got, p)
		}}
	if err := d.Submit(op); err != nil {
		t.Fatal(err)
	}
	return op, got
}

// TestBufferGroupPieces: with incremental consumption each receive takes only what it
// needs, the next continues in the same buffer, and a buffer goes back to the kernel
// only when the kernel is done with it (a piece without BUF_MORE) and every piece of
// it has been released — not before, or a receive would overwrite bytes a reader
// still holds.
func TestBufferGroupPieces(t *testing.T) {
	d := newDriver(t, DriverConfig{})
	g, err := d.NewBufferGroup(2, 64)
	if err != nil {
		t.Fatal(err)
	}
	bg := g.(*bufGroup)
	if !bg.inc {
		t.Skip("this kernel refused incremental buffer consumption (Linux 6.12)")
	}
	fds := streamPair(t)
	_, got := recvPieces(t, d, fds[0], g)
	send := func(s string) {
		t.Helper()
		n := len(*got)
		if _, err := unix.Write(fds[1], []byte(s)); err != nil {
			t.Fatal(err)
		}
		waitFor(t, d, "a piece", func() bool { return len(*got) > n })
	}
	last := func() piece { return (*got)[len(*got)-1] }

	send("abc")
	first := last()
	send("defg")
	second := last()
	if first.data != "abc" || second.data != "defg" || second.id != first.id || first.off != 0 || second.off != 3 {
		t.Fatalf("pieces %+v then %+v, want abc at 0 and defg at 3 of one buffer", first, second)
	}
	x := first.id
	g.Release(x)
	g.Release(x)
	if bg.held[x] != 0 || bg.done[x] {
		t.Fatalf("buffer %d: %d pieces held, done %v after releasing both while the kernel fills it", x, bg.held[x], bg.done[x])
	}
	g.Release(x) // one release too many: ignored
	rest := string(bytes.Repeat([]byte{'r'}, 64-7))
	send(rest) // fills x to its end: the kernel is done with it
	if p := last(); p.id != x || p.off != 7 || p.data != rest || !bg.done[x] || bg.held[x] != 1 {
		t.Fatalf("the piece that fills buffer %d: %+v (done %v, held %d)", x, p, bg.done[x], bg.held[x])
	}
	full := string(bytes.Repeat([]byte{'y'}, 64))
	send(full) // the other buffer, whole
	y := last().id
	if y == x || last().off != 0 || last().data != full {
		t.Fatalf("the second buffer's piece: %+v", last())
	}
	// Both buffers are out (x held by its last piece, y by its only one): the receive
	// runs dry, and the byte stays in the socket.
	if _, err := unix.Write(fds[1], []byte("z")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, d, "the end of the receive", func() bool { return !last().more })
	if p := last(); p.res != -int32(syscall.ENOBUFS) {
		t.Fatalf("with every buffer out the receive ended with %+v, want ENOBUFS", p)
	}
	g.Release(x) // x's last piece: x goes back, from its start
	op2, got2 := recvPieces(t, d, fds[0], g)
	waitFor(t, d, "the kept byte", func() bool { return len(*got2) > 0 })
	if p := (*got2)[0]; p.id != x || p.off != 0 || p.data != "z" {
		t.Fatalf("after x came back: %+v, want z at the start of buffer %d", p, x)
	}
	if err := d.Cancel(op2); err != nil {
		t.Fatal(err)
	}
	waitFor(t, d, "the cancelled receive", func() bool { return !(*got2)[len(*got2)-1].more })
}

// TestBufferGroupWhole: DriverConfig.WholeBuffers gives every receive a buffer of
// its own at offset 0, as kernels before 6.12 do.
func TestBufferGroupWhole(t *testing.T) {
	d := newDriver(t, DriverConfig{WholeBuffers: true})
	g, err := d.NewBufferGroup(2, 64)
	if err != nil {
		t.Fatal(err)
	}
	fds := streamPair(t)
	op, got := recvPieces(t, d, fds[0], g)
	for _, s := range []string{"abc", "defg"} {
		n := len(*got)
		if _, err := unix.Write(fds[1], []byte(s)); err != nil {
			t.Fatal(err)
		}
		waitFor(t, d, "a piece", func() bool { return len(*got) > n })
	}
	a, b := (*got)[0], (*got)[1]
	if a.data != "abc" || b.data != "defg" || a.id == b.id || a.off != 0 || b.off != 0 {
		t.Fatalf("pieces %+v and %+v, want a whole buffer each", a, b)
	}
	g.Release(a.id)
	g.Release(b.id)
	if err := d.Cancel(op); err != nil {
		t.Fatal(err)
	}
	waitFor(t, d, "the cancelled receive", func() bool { return !(*got)[len(*got)-1].more })
}

// TestIncrementalBuffersFeature: the driver reports FeatIncrementalBuffers before any
// group exists exactly when its groups turn out incremental, and never with
// WholeBuffers; the probe behind it leaves no group registered (a group made after it
// gets ID 0 and works), and SupportsIncBufRing answers the same as the driver.
func TestIncrementalBuffersFeature(t *testing.T) {
	for _, whole := range []bool{false, true} {
		d := newDriver(t, DriverConfig{WholeBuffers: whole})
		has := d.Info().Features.Has(poller.FeatIncrementalBuffers)
		g, err := d.NewBufferGroup(2, 64)
		if err != nil {
			t.Fatal(err)
		}
		inc := g.(*bufGroup).inc
		if has != inc || (whole && has) || g.ID() != 0 {
			t.Fatalf("WholeBuffers %v: feature %v, group incremental %v, group ID %d", whole, has, inc, g.ID())
		}
		if !whole && d.Ring().SupportsIncBufRing() != has {
			t.Fatalf("SupportsIncBufRing disagrees with the driver's feature (%v)", has)
		}
		if !whole && !has {
			t.Log("this kernel refuses incremental buffer consumption (Linux 6.12): checked the fallback only")
		}
		// The group receives: the probe's registration is gone.
		fds := streamPair(t)
		op, got := recvPieces(t, d, fds[0], g)
		if _, err := unix.Write(fds[1], []byte("hi")); err != nil {
			t.Fatal(err)
		}
		waitFor(t, d, "a piece", func() bool { return len(*got) > 0 })
		if p := (*got)[0]; p.data != "hi" {
			t.Fatalf("received %+v", p)
		}
		g.Release((*got)[0].id)
		if err := d.Cancel(op); err != nil {
			t.Fatal(err)
		}
		waitFor(t, d, "the cancelled receive", func() bool { return !(*got)[len(*got)-1].more })
	}
}

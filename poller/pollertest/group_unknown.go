package pollertest

import (
	"errors"
	"syscall"
	"testing"

	"github.com/zokio/zokio/poller"
)

func init() {
	register("RecvUnknownGroup", testRecvUnknownGroup)
}

// testRecvUnknownGroup: an OpRecv with FlagBufferSelect whose Group names no group of
// the driver is a programming error, refused by Submit with an *poller.InvalidOpError
// (errors.Is EINVAL) on every driver, single-shot or multishot; the op never
// completes, and the bytes waiting on the socket stay for a receive from a real group.
// (io_uring used to refuse it and epoll to complete it with ENOBUFS.)
func testRecvUnknownGroup(t *testing.T, nd NewDriver) {
	h := start(t, nd)
	fds := newFDs(t)
	a, b := fds.streamPair()
	g := newGroup(t, h, 2, 64)
	write(t, b, []byte("kept"))
	var refused []*rec
	for _, id := range []uint16{0, 1, 2, g.ID() + 1, 0x7fff, 0xffff} {
		if id == g.ID() {
			continue
		}
		for _, f := range []poller.OpFlags{0, poller.FlagMultishot} {
			r := newRec(t, poller.Op{Code: poller.OpRecv, Fd: a, Flags: poller.FlagBufferSelect | f, Group: id})
			err := h.d.Submit(&r.op)
			var inv *poller.InvalidOpError
			if !errors.As(err, &inv) || !errors.Is(err, syscall.EINVAL) {
				t.Errorf("recv from unknown group %d (flags %#x): Submit returned %v, want an InvalidOpError", id, uint32(r.op.Flags), err)
			}
			if r.op.InFlight() {
				t.Errorf("recv from unknown group %d: refused op left in flight", id)
			}
			refused = append(refused, r)
		}
	}
	r := h.run(newRec(t, poller.Op{Code: poller.OpRecv, Fd: a, Flags: poller.FlagBufferSelect, Group: g.ID()}))
	c := r.only()
	if got := string(c.data(g)); got != "kept" {
		t.Fatalf("recv from the real group after the refusals: %q (res %d), want %q", got, c.Res, "kept")
	}
	g.Release(c.BufID)
	for _, r := range refused {
		if len(r.got) > 0 {
			t.Errorf("refused recv from group %d completed: %+v", r.op.Group, r.got)
		}
	}
}

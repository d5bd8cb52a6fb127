package pollertest

import (
	"errors"
	"math"
	"runtime"
	"syscall"
	"testing"

	"github.com/zokio/zokio/poller"
)

func init() {
	register("DescriptorRange", testDescriptorRange)
}

// testDescriptorRange: an Fd no kernel could hand out (outside the 32-bit range) is
// refused by Submit with an *poller.InvalidOpError; one inside it that names nothing
// open completes exactly once with an error, and costs the driver no memory sized by
// the number (io_uring used to grow a per-descriptor table to the Fd given, and ran
// the process out of memory for 1<<40).
func testDescriptorRange(t *testing.T, nd NewDriver) {
	h := start(t, nd)
	buf := make([]byte, 8)
	for _, v := range []int64{math.MaxInt32 + 1, 1 << 40, math.MinInt32 - 1} {
		fd := int(v)
		if int64(fd) != v {
			continue // a 32-bit int: nothing lies outside
		}
		for _, op := range []poller.Op{
			{Code: poller.OpRead, Fd: fd, Buf: buf},
			{Code: poller.OpClose, Fd: fd},
			{Code: poller.OpRenameat, Fd: -100, Path: "a", Fd2: fd, Path2: "b"},
		} {
			r := newRec(t, op)
			var inv *poller.InvalidOpError
			if err := h.d.Submit(&r.op); !errors.As(err, &inv) || !errors.Is(err, syscall.EINVAL) {
				t.Errorf("%v on descriptor %d: Submit returned %v, want an InvalidOpError", op.Code, fd, err)
			}
		}
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for _, fd := range []int{math.MaxInt32, math.MaxInt32 - 64, 1 << 30} {
		for _, op := range []poller.Op{
			{Code: poller.OpRead, Fd: fd, Buf: buf, Offset: -1},
			{Code: poller.OpWrite, Fd: fd, Buf: buf, Offset: -1},
			{Code: poller.OpRecv, Fd: fd, Buf: buf},
			{Code: poller.OpSend, Fd: fd, Buf: buf},
			{Code: poller.OpFsync, Fd: fd},
			{Code: poller.OpClose, Fd: fd},
		} {
			r := h.run(newRec(t, op))
			if c := r.only(); c.Res >= 0 {
				t.Errorf("%v on descriptor %d (nothing open) succeeded: %d", op.Code, fd, c.Res)
			}
		}
	}
	runtime.ReadMemStats(&after)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<20 {
		t.Errorf("ops on high unopened descriptors allocated %d MiB", grew>>20)
	}
}

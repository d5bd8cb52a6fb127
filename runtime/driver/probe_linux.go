package driver

import (
	"fmt"
	"time"

	"golang.org/x/sys/unix"

	"github.com/zokio/zokio/uring"
)

// The opcodes the io_uring driver uses. A kernel without one of them gets epoll.
var requiredOps = []struct {
	op   uring.Opcode
	name string
}{
	{uring.OpNop, "NOP"}, {uring.OpRead, "READ"}, {uring.OpWrite, "WRITE"},
	{uring.OpReadv, "READV"}, {uring.OpWritev, "WRITEV"}, {uring.OpReadFixed, "READ_FIXED"},
	{uring.OpWriteFixed, "WRITE_FIXED"}, {uring.OpFsync, "FSYNC"}, {uring.OpFallocate, "FALLOCATE"},
	{uring.OpOpenat, "OPENAT"}, {uring.OpClose, "CLOSE"}, {uring.OpStatx, "STATX"},
	{uring.OpUnlinkat, "UNLINKAT"}, {uring.OpRenameat, "RENAMEAT"}, {uring.OpMkdirat, "MKDIRAT"},
	{uring.OpAccept, "ACCEPT"}, {uring.OpConnect, "CONNECT"}, {uring.OpRecv, "RECV"},
	{uring.OpSend, "SEND"}, {uring.OpSendmsg, "SENDMSG"}, {uring.OpRecvmsg, "RECVMSG"},
	{uring.OpShutdown, "SHUTDOWN"}, {uring.OpPollAdd, "POLL_ADD"}, {uring.OpPollRemove, "POLL_REMOVE"},
	{uring.OpTimeout, "TIMEOUT"}, {uring.OpTimeoutRemove, "TIMEOUT_REMOVE"},
	{uring.OpLinkTimeout, "LINK_TIMEOUT"}, {uring.OpAsyncCancel, "ASYNC_CANCEL"},
	{uring.OpFtruncate, "FTRUNCATE"},
}

// The features the driver relies on: overflow without loss, timed waits, internal poll
// for sockets.
var requiredFeatures = []struct {
	f    uring.FeatureFlags
	name string
}{
	{uring.FeatNoDrop, "FEAT_NODROP"}, {uring.FeatExtArg, "FEAT_EXT_ARG"},
	{uring.FeatFastPoll, "FEAT_FAST_POLL"}, {uring.FeatRWCurPos, "FEAT_RW_CUR_POS"},
}

type probeResult struct {
	err      error
	missing  []string
	features uring.FeatureFlags
	ops      int // opcodes the kernel supports
}

// probeUring asks the kernel, with a small ring, for everything the driver needs. It is
// a functional check where a flag cannot be probed: it registers a buffer ring and runs
// a multishot receive on a socket pair.
func probeUring() probeResult {
	ring, err := uring.New(uring.Config{Entries: 4, SQThreadCPU: -1})
	if err != nil {
		return probeResult{err: classify(err)}
	}
	defer ring.Close()
	res := probeResult{features: ring.Features()}
	for _, f := range requiredFeatures {
		if ring.Features()&f.f == 0 {
			res.missing = append(res.missing, f.name)
		}
	}
	p, err := ring.Probe()
	if err != nil {
		res.err = fmt.Errorf("%w: IORING_REGISTER_PROBE failed: %v", ErrUnavailable, err)
		return res
	}
	for _, o := range requiredOps {
		if p.Supports(o.op) {
			res.ops++
		} else {
			res.missing = append(res.missing, o.name)
		}
	}
	if len(res.missing) == 0 {
		if err := probeMultishotRecv(ring); err != nil {
			res.missing = append(res.missing, err.Error())
		}
	}
	if len(res.missing) > 0 {
		res.err = fmt.Errorf("%w: the kernel lacks %v", ErrUnavailable, res.missing)
	}
	return res
}

// probeBuf is the multishot probe's receive buffer: a package variable, so that it
// never moves while the kernel holds its address. probeUring runs once per process.
var probeBuf [64]byte

// probeMultishotRecv checks provided buffer rings and multishot receive (Linux 6.0) by
// doing it: one byte through a socket pair must arrive with CQE_F_MORE set.
func probeMultishotRecv(ring *uring.Ring) error {
	br, err := ring.SetupBufRing(1, 0, 0)
	if err != nil {
		return fmt.Errorf("provided buffer rings (%v)", err)
	}
	defer br.Free()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("socketpair for the multishot probe (%v)", err)
	}
	defer unix.Close(fds[0])
	defer unix.Close(fds[1])
	br.Add(probeBuf[:], 0, 0)
	br.Advance(1)
	sqe := ring.NextSQE()
	sqe.PrepRecvMultishot(fds[0], 0, 0)
	sqe.SetUserData(1)
	if _, err := unix.Write(fds[1], []byte{1}); err != nil {
		return fmt.Errorf("write for the multishot probe (%v)", err)
	}
	var cqe [4]uring.CQE
	_, _ = ring.SubmitAndWait(1, time.Second)
	n := ring.PeekCQEs(cqe[:])
	if n == 0 || cqe[0].Flags.More() {
		drainProbe(ring) // the receive is still armed: cancel it and wait for its end
	}
	switch {
	case n == 0:
		return fmt.Errorf("multishot recv (no completion within a second)")
	case cqe[0].Res != 1 || !cqe[0].Flags.More():
		return fmt.Errorf("multishot recv (res %d, flags %#x)", cqe[0].Res, uint32(cqe[0].Flags))
	}
	return nil
}

// drainProbe cancels whatever the probe left in flight and waits for the receive's
// final completion, so that the kernel no longer references probeBuf afterwards.
func drainProbe(ring *uring.Ring) {
	sqe := ring.NextSQE()
	sqe.PrepCancel(0, uring.CancelAny|uring.CancelAll)
	sqe.SetUserData(2)
	var cqe [8]uring.CQE
	for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); {
		_, _ = ring.SubmitAndWait(1, 50*time.Millisecond)
		n := ring.PeekCQEs(cqe[:])
		for i := 0; i < n; i++ {
			if cqe[i].UserData == 1 && !cqe[i].Flags.More() {
				return
			}
		}
	}
}

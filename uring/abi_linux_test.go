package uring

import (
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// layout is a struct's expected size and field offsets, from the uapi
// header (include/uapi/linux/io_uring.h).
type layout struct {
	name    string
	size    uintptr
	got     uintptr
	offsets map[string][2]uintptr // field: {got, want}
}

func TestABILayout(t *testing.T) {
	var (
		sqe SQE
		cqe CQE
		p   Params
		so  SQRingOffsets
		co  CQRingOffsets
		po  ProbeOp
		pr  Probe
		br  BufReg
		be  BufRingEntry
		ga  GetEventsArg
		rr  RsrcRegister
		ru  RsrcUpdate
		ru2 RsrcUpdate2
		fir FileIndexRange
		rmo RecvmsgOut
		ts  Timespec
	)
	cases := []layout{
		{"io_uring_sqe", 64, unsafe.Sizeof(sqe), map[string][2]uintptr{
			"opcode": {unsafe.Offsetof(sqe.Opcode), 0}, "flags": {unsafe.Offsetof(sqe.Flags), 1},
			"ioprio": {unsafe.Offsetof(sqe.Ioprio), 2}, "fd": {unsafe.Offsetof(sqe.Fd), 4},
			"off": {unsafe.Offsetof(sqe.Off), 8}, "addr": {unsafe.Offsetof(sqe.Addr), 16},
			"len": {unsafe.Offsetof(sqe.Len), 24}, "op_flags": {unsafe.Offsetof(sqe.OpFlags), 28},
			"user_data": {unsafe.Offsetof(sqe.UserData), 32}, "buf_index": {unsafe.Offsetof(sqe.BufIndex), 40},
			"personality": {unsafe.Offsetof(sqe.Personality), 42}, "file_index": {unsafe.Offsetof(sqe.FileIndex), 44},
			"addr3": {unsafe.Offsetof(sqe.Addr3), 48},
		}},
		{"io_uring_cqe", 16, unsafe.Sizeof(cqe), map[string][2]uintptr{
			"user_data": {unsafe.Offsetof(cqe.UserData), 0}, "res": {unsafe.Offsetof(cqe.Res), 8},
			"flags": {unsafe.Offsetof(cqe.Flags), 12},
		}},
		{"io_uring_params", 120, unsafe.Sizeof(p), map[string][2]uintptr{
			"sq_entries": {unsafe.Offsetof(p.SQEntries), 0}, "cq_entries": {unsafe.Offsetof(p.CQEntries), 4},
			"flags": {unsafe.Offsetof(p.Flags), 8}, "sq_thread_cpu": {unsafe.Offsetof(p.SQThreadCPU), 12},
			"sq_thread_idle": {unsafe.Offsetof(p.SQThreadIdle), 16}, "features": {unsafe.Offsetof(p.Features), 20},
			"wq_fd": {unsafe.Offsetof(p.WQFd), 24}, "resv": {unsafe.Offsetof(p.Resv), 28},
			"sq_off": {unsafe.Offsetof(p.SQOff), 40}, "cq_off": {unsafe.Offsetof(p.CQOff), 80},
		}},
		{"io_sqring_offsets", 40, unsafe.Sizeof(so), map[string][2]uintptr{
			"head": {unsafe.Offsetof(so.Head), 0}, "tail": {unsafe.Offsetof(so.Tail), 4},
			"ring_mask": {unsafe.Offsetof(so.RingMask), 8}, "ring_entries": {unsafe.Offsetof(so.RingEntries), 12},
			"flags": {unsafe.Offsetof(so.Flags), 16}, "dropped": {unsafe.Offsetof(so.Dropped), 20},
			"array": {unsafe.Offsetof(so.Array), 24}, "resv1": {unsafe.Offsetof(so.Resv1), 28},
			"user_addr": {unsafe.Offsetof(so.UserAddr), 32},
		}},
		{"io_cqring_offsets", 40, unsafe.Sizeof(co), map[string][2]uintptr{
			"head": {unsafe.Offsetof(co.Head), 0}, "tail": {unsafe.Offsetof(co.Tail), 4},
			"ring_mask": {unsafe.Offsetof(co.RingMask), 8}, "ring_entries": {unsafe.Offsetof(co.RingEntries), 12},
			"overflow": {unsafe.Offsetof(co.Overflow), 16}, "cqes": {unsafe.Offsetof(co.CQEs), 20},
			"flags": {unsafe.Offsetof(co.Flags), 24}, "resv1": {unsafe.Offsetof(co.Resv1), 28},
			"user_addr": {unsafe.Offsetof(co.UserAddr), 32},
		}},
		{"io_uring_probe_op", 8, unsafe.Sizeof(po), map[string][2]uintptr{
			"op": {unsafe.Offsetof(po.Op), 0}, "flags": {unsafe.Offsetof(po.Flags), 2},
			"resv2": {unsafe.Offsetof(po.Resv2), 4},
		}},
		{"io_uring_probe", 16 + 256*8, unsafe.Sizeof(pr), map[string][2]uintptr{
			"last_op": {unsafe.Offsetof(pr.LastOp), 0}, "ops_len": {unsafe.Offsetof(pr.OpsLen), 1},
			"resv2": {unsafe.Offsetof(pr.Resv2), 4}, "ops": {unsafe.Offsetof(pr.Ops), 16},
		}},
		{"io_uring_buf_reg", 40, unsafe.Sizeof(br), map[string][2]uintptr{
			"ring_addr": {unsafe.Offsetof(br.RingAddr), 0}, "ring_entries": {unsafe.Offsetof(br.RingEntries), 8},
			"bgid": {unsafe.Offsetof(br.Bgid), 12}, "flags": {unsafe.Offsetof(br.Flags), 14},
			"min_left": {unsafe.Offsetof(br.MinLeft), 16}, "resv": {unsafe.Offsetof(br.Resv), 20},
		}},
		{"io_uring_buf", 16, unsafe.Sizeof(be), map[string][2]uintptr{
			"addr": {unsafe.Offsetof(be.Addr), 0}, "len": {unsafe.Offsetof(be.Len), 8},
			"bid": {unsafe.Offsetof(be.Bid), 12}, "resv/tail": {unsafe.Offsetof(be.Resv), 14},
		}},
		{"io_uring_getevents_arg", 24, unsafe.Sizeof(ga), map[string][2]uintptr{
			"sigmask": {unsafe.Offsetof(ga.Sigmask), 0}, "sigmask_sz": {unsafe.Offsetof(ga.SigmaskSz), 8},
			"min_wait_usec": {unsafe.Offsetof(ga.MinWaitUsec), 12}, "ts": {unsafe.Offsetof(ga.TS), 16},
		}},
		{"io_uring_rsrc_register", 32, unsafe.Sizeof(rr), map[string][2]uintptr{
			"nr": {unsafe.Offsetof(rr.Nr), 0}, "flags": {unsafe.Offsetof(rr.Flags), 4},
			"data": {unsafe.Offsetof(rr.Data), 16}, "tags": {unsafe.Offsetof(rr.Tags), 24},
		}},
		{"io_uring_rsrc_update", 16, unsafe.Sizeof(ru), map[string][2]uintptr{
			"offset": {unsafe.Offsetof(ru.Offset), 0}, "data": {unsafe.Offsetof(ru.Data), 8},
		}},
		{"io_uring_rsrc_update2", 32, unsafe.Sizeof(ru2), map[string][2]uintptr{
			"offset": {unsafe.Offsetof(ru2.Offset), 0}, "data": {unsafe.Offsetof(ru2.Data), 8},
			"tags": {unsafe.Offsetof(ru2.Tags), 16}, "nr": {unsafe.Offsetof(ru2.Nr), 24},
		}},
		{"io_uring_file_index_range", 16, unsafe.Sizeof(fir), map[string][2]uintptr{
			"off": {unsafe.Offsetof(fir.Off), 0}, "len": {unsafe.Offsetof(fir.Len), 4},
		}},
		{"io_uring_recvmsg_out", 16, unsafe.Sizeof(rmo), map[string][2]uintptr{
			"namelen": {unsafe.Offsetof(rmo.NameLen), 0}, "controllen": {unsafe.Offsetof(rmo.ControlLen), 4},
			"payloadlen": {unsafe.Offsetof(rmo.PayloadLen), 8}, "flags": {unsafe.Offsetof(rmo.Flags), 12},
		}},
		{"__kernel_timespec", 16, unsafe.Sizeof(ts), map[string][2]uintptr{
			"tv_sec": {unsafe.Offsetof(ts.Sec), 0}, "tv_nsec": {unsafe.Offsetof(ts.Nsec), 8},
		}},
	}
	for _, c := range cases {
		if c.got != c.size {
			t.Errorf("%s: size %d, want %d", c.name, c.got, c.size)
		}
		for f, o := range c.offsets {
			if o[0] != o[1] {
				t.Errorf("%s.%s: offset %d, want %d", c.name, f, o[0], o[1])
			}
		}
	}
	if unsafe.Sizeof(unix.Iovec{}) != 2*unsafe.Sizeof(uintptr(0)) {
		t.Errorf("unix.Iovec is %d bytes, not struct iovec", unsafe.Sizeof(unix.Iovec{}))
	}
}

// TestABIConstants spot-checks values against the uapi header, where an
// off-by-one in an iota list would shift everything after it.
func TestABIConstants(t *testing.T) {
	checks := []struct {
		name      string
		got, want uint64
	}{
		{"IORING_OP_ACCEPT", uint64(OpAccept), 13},
		{"IORING_OP_READ", uint64(OpRead), 22},
		{"IORING_OP_SEND", uint64(OpSend), 26},
		{"IORING_OP_SHUTDOWN", uint64(OpShutdown), 34},
		{"IORING_OP_MSG_RING", uint64(OpMsgRing), 40},
		{"IORING_OP_SEND_ZC", uint64(OpSendZC), 47},
		{"IORING_OP_FTRUNCATE", uint64(OpFtruncate), 55},
		{"IORING_OP_PIPE", uint64(OpPipe), 62},
		{"IORING_OP_URING_CMD128", uint64(OpURingCmd128), 64},
		{"IORING_SETUP_DEFER_TASKRUN", uint64(SetupDeferTaskrun), 1 << 13},
		{"IORING_SETUP_NO_SQARRAY", uint64(SetupNoSQArray), 1 << 16},
		{"IORING_ENTER_EXT_ARG", uint64(EnterExtArg), 1 << 3},
		{"IORING_FEAT_NO_IOWAIT", uint64(FeatNoIOWait), 1 << 17},
		{"IORING_CQE_F_BUF_MORE", uint64(CQEFlagBufMore), 1 << 4},
		{"IORING_REGISTER_PBUF_RING", uint64(RegisterPbufRing), 22},
		{"IORING_REGISTER_BPF_FILTER", uint64(RegisterBPFFilter), 37},
		{"IORING_RECVSEND_BUNDLE", uint64(RecvSendBundle), 1 << 4},
		{"IORING_TIMEOUT_IMMEDIATE_ARG", uint64(TimeoutImmediateArg), 1 << 7},
		{"IORING_ASYNC_CANCEL_OP", uint64(CancelOp), 1 << 5},
		{"IORING_OFF_PBUF_RING", offPbufRing, 0x80000000},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
}

func TestCQEHelpers(t *testing.T) {
	c := CQE{Res: -int32(unix.ENOBUFS), Flags: CQEFlagBuffer | CQEFlagMore | 7<<cqeBufferShift}
	if c.Err() != unix.ENOBUFS || !c.Flags.More() || !c.Flags.HasBuffer() || c.BufID() != 7 {
		t.Fatalf("helpers on %+v: err %v more %v buf %v id %d", c, c.Err(), c.Flags.More(), c.Flags.HasBuffer(), c.BufID())
	}
	ok := CQE{Res: 3, Flags: CQEFlagNotif | CQEFlagBufMore | CQEFlagSockNonempty}
	if ok.Err() != nil || ok.Flags.More() || !ok.Flags.Notif() || !ok.Flags.BufMore() || !ok.Flags.SockNonempty() {
		t.Fatalf("helpers on %+v", ok)
	}
	if got := pollMask(unix.POLLIN); !bigEndian && got != unix.POLLIN {
		t.Fatalf("pollMask(POLLIN) = %#x", got)
	}
	if ts := NewTimespec(1500 * 1e6); ts.Sec != 1 || ts.Nsec != 5e8 {
		t.Fatalf("NewTimespec(1.5s) = %+v", ts)
	}
}

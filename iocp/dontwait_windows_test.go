package iocp_test

import (
	"syscall"
	"testing"

	"github.com/zokio/zokio/poller"
)

// MsgDontWait makes a recv or recvmsg with nothing to read complete at once with
// EAGAIN, as recv(2) does, and one with data, or a send with room, go ahead.
func TestMsgDontWait(t *testing.T) {
	d := newDriver(t)
	c, s := tcpPair(t, d)
	defer closeOp(t, d, c)
	defer closeOp(t, d, s)
	buf := make([]byte, 16)
	wantErr(t, "recv MsgDontWait, nothing sent", run(t, d, newRec(poller.Op{Code: poller.OpRecv, Fd: int(c), Buf: buf, Arg: poller.MsgDontWait})), syscall.EAGAIN)
	wantErr(t, "recvmsg MsgDontWait, nothing sent", run(t, d, newRec(poller.Op{Code: poller.OpRecvmsg, Fd: int(c), Bufs: [][]byte{buf}, Arg: poller.MsgDontWait})), syscall.EAGAIN)
	if res := run(t, d, newRec(poller.Op{Code: poller.OpSend, Fd: int(s), Buf: []byte("abc"), Arg: poller.MsgDontWait})); res != 3 {
		t.Fatalf("send MsgDontWait = %d (%v)", res, errOf(res))
	}
	// Wait for the data through the driver, then take it without waiting.
	if res := run(t, d, newRec(poller.Op{Code: poller.OpPoll, Fd: int(c), Arg: poller.PollIn})); res < 0 || res&poller.PollIn == 0 {
		t.Fatalf("poll = %d (%v)", res, errOf(res))
	}
	if res := run(t, d, newRec(poller.Op{Code: poller.OpRecv, Fd: int(c), Buf: buf, Arg: poller.MsgDontWait})); res != 3 || string(buf[:3]) != "abc" {
		t.Fatalf("recv MsgDontWait with data = %d %q", res, buf[:max(res, 0)])
	}
	wantErr(t, "recv MsgDontWait, drained", run(t, d, newRec(poller.Op{Code: poller.OpRecv, Fd: int(c), Buf: buf, Arg: poller.MsgDontWait})), syscall.EAGAIN)
	// After the peer's FIN a recv does not wait either: it reads the end.
	if res := run(t, d, newRec(poller.Op{Code: poller.OpShutdown, Fd: int(s), Arg: poller.ShutWr})); res != 0 {
		t.Fatalf("shutdown: %v", errOf(res))
	}
	if res := run(t, d, newRec(poller.Op{Code: poller.OpPoll, Fd: int(c), Arg: poller.PollIn})); res < 0 {
		t.Fatalf("poll = %v", errOf(res))
	}
	if res := run(t, d, newRec(poller.Op{Code: poller.OpRecv, Fd: int(c), Buf: buf, Arg: poller.MsgDontWait})); res != 0 {
		t.Fatalf("recv MsgDontWait at the end = %d (%v), want 0", res, errOf(res))
	}
}

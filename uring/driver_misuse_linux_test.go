package uring

import (
	"errors"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/zokio/zokio/poller"
)

// opLog records every completion of the ops it makes, by name.
type opLog map[string][]int32

func (l opLog) op(name string, op poller.Op) *poller.Op {
	op.Done = func(op *poller.Op) { l[name] = append(l[name], op.Res) }
	return &op
}

func (l opLog) want(t *testing.T, want map[string]int32) {
	t.Helper()
	for name, w := range want {
		if got := l[name]; len(got) != 1 || got[0] != w {
			t.Errorf("%s: completions %v, want [%d]", name, got, w)
		}
	}
}

// TestDriverCloseOfBusyDescriptor: an OpClose of a descriptor that an op still uses
// waits for that op; meanwhile an op submitted on the descriptor, and a second OpClose
// of it, fail with EBADF at once (the number is as good as closed), and the close
// completes once the op that held it ends.
func TestDriverCloseOfBusyDescriptor(t *testing.T) {
	d := newDriver(t, DriverConfig{})
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fds[1])
	log := opLog{}
	recv := log.op("recv", poller.Op{Code: poller.OpRecv, Fd: fds[0], Buf: make([]byte, 8)})
	for _, op := range []*poller.Op{
		recv,
		log.op("close", poller.Op{Code: poller.OpClose, Fd: fds[0]}),
		log.op("late recv", poller.Op{Code: poller.OpRecv, Fd: fds[0], Buf: make([]byte, 8)}),
		log.op("second close", poller.Op{Code: poller.OpClose, Fd: fds[0]}),
	} {
		if err := d.Submit(op); err != nil {
			t.Fatalf("Submit(%v): %v", op.Code, err)
		}
	}
	waitFor(t, d, "the EBADFs", func() bool { return len(log["late recv"]) > 0 && len(log["second close"]) > 0 })
	if len(log["close"]) != 0 {
		t.Fatalf("the close completed while the recv still used the descriptor: %v", log)
	}
	if err := d.Cancel(recv); err != nil {
		t.Fatal(err)
	}
	waitFor(t, d, "the close", func() bool { return len(log["close"]) > 0 })
	ebadf := -int32(unix.EBADF)
	log.want(t, map[string]int32{"recv": -int32(unix.ECANCELED), "close": 0, "late recv": ebadf, "second close": ebadf})
	if _, err := unix.FcntlInt(uintptr(fds[0]), unix.F_GETFD, 0); !errors.Is(err, unix.EBADF) {
		t.Errorf("the descriptor is still open after its close completed: %v", err)
	}
}

// TestDriverRefusals: what the io_uring driver refuses, and how: a chain longer than
// its submission queue (it could never go to the kernel whole), Close from a
// completion callback (ErrReentrant), a second Cancel of one op (nil: the first one
// is under way), and Cancel, NewBufferGroup and Submit after Close (ErrClosed).
func TestDriverRefusals(t *testing.T) {
	checkLeaks(t)
	d, err := NewDriver(DriverConfig{Entries: 4})
	if err != nil {
		t.Fatal(err)
	}
	log := opLog{}
	var reentrant error
	reop := log.op("reenter", poller.Op{Code: poller.OpNop})
	reop.Done = func(op *poller.Op) { reentrant = d.Close(); log["reenter"] = append(log["reenter"], op.Res) }
	if err := d.Submit(reop); err != nil {
		t.Fatal(err)
	}
	waitFor(t, d, "the callback", func() bool { return len(log["reenter"]) > 0 })
	if !errors.Is(reentrant, poller.ErrReentrant) {
		t.Errorf("Close from a Done callback = %v, want ErrReentrant", reentrant)
	}

	a, _ := socketPair(t, unix.SOCK_STREAM)
	recv := log.op("recv", poller.Op{Code: poller.OpRecv, Fd: a, Buf: make([]byte, 8)})
	if err := d.Submit(recv); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Wait(0); err != nil {
		t.Fatal(err)
	}
	if err := d.Cancel(recv); err != nil {
		t.Fatal(err)
	}
	if err := d.Cancel(recv); err != nil {
		t.Errorf("second Cancel = %v, want nil", err)
	}
	waitFor(t, d, "the cancelled recv", func() bool { return len(log["recv"]) > 0 })
	log.want(t, map[string]int32{"recv": -int32(unix.ECANCELED)})

	// An open chain may take the whole SQ, and no more: the op that would need one
	// SQE more is refused, the chain stays open, and Close cancels its members.
	sq := int(d.ring.SQEntries())
	var chain []*poller.Op
	var chainErr error
	for i := 0; i <= sq && chainErr == nil; i++ {
		op := log.op("link", poller.Op{Code: poller.OpNop, Flags: poller.FlagLink})
		chain = append(chain, op)
		chainErr = d.Submit(op)
	}
	var inv *poller.InvalidOpError
	if !errors.As(chainErr, &inv) || len(chain) != sq+1 || chain[sq].Ref != 0 {
		t.Fatalf("a chain of %d on a %d-entry SQ: Submit = %v", len(chain), sq, chainErr)
	}
	if err := d.Submit(log.op("end", poller.Op{Code: poller.OpNop})); !errors.As(err, &inv) {
		t.Fatalf("the op that would end the full chain: Submit = %v", err)
	}
	g, err := d.NewBufferGroup(2, 64)
	if err != nil {
		t.Fatal(err)
	}
	if b := g.Bytes(1); len(b) != 64 || g.Bytes(uint16(g.Count())) != nil {
		t.Fatalf("Bytes(1) has %d bytes, Bytes(Count) = %v; want 64 and nil", len(b), g.Bytes(uint16(g.Count())))
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if b := g.Bytes(0); b != nil {
		t.Errorf("Bytes after Close = %d bytes of unmapped memory, want nil", len(b))
	}
	if err := d.Cancel(recv); !errors.Is(err, poller.ErrClosed) {
		t.Errorf("Cancel after Close = %v", err)
	}
	if g, err := d.NewBufferGroup(1, 64); g != nil || !errors.Is(err, poller.ErrClosed) {
		t.Errorf("NewBufferGroup after Close = %v, %v", g, err)
	}
	if err := d.Submit(log.op("late", poller.Op{Code: poller.OpNop})); !errors.Is(err, poller.ErrClosed) {
		t.Errorf("Submit after Close = %v", err)
	}
	if got := log["link"]; len(got) != sq {
		t.Fatalf("%d of the open chain's %d members completed at Close: %v", len(got), sq, got)
	}
	for _, res := range log["link"] {
		if res != -int32(unix.ECANCELED) {
			t.Fatalf("open chain members at Close: %v, want ECANCELED each", log["link"])
		}
	}
}

// TestDriverCloseCancelsUnplacedOps: ops that found the submission queue full wait in
// the driver without an SQE; Close completes each of them exactly once (ECANCELED, or
// its result if it reached the kernel after all), and the ops on the ring too.
func TestDriverCloseCancelsUnplacedOps(t *testing.T) {
	checkLeaks(t)
	fk := newFaultKernel(1)
	d, err := NewDriver(DriverConfig{Entries: 4, kernel: fk})
	if err != nil {
		t.Fatal(err)
	}
	// The next submissions fail with EBUSY (a completion backlog), so that the SQ
	// fills and stays full; Close meets the last of them when it needs an SQE.
	for range 64 {
		fk.enterFaults = append(fk.enterFaults, enterFault{errno: unix.EBUSY})
	}
	log := opLog{}
	const n = 12
	names := make([]string, n)
	for i := range n {
		names[i] = string(rune('a' + i))
		if err := d.Submit(log.op(names[i], poller.Op{Code: poller.OpNop})); err != nil {
			t.Fatal(err)
		}
	}
	if len(d.pend) == 0 {
		t.Fatalf("no op waits for the full SQ (%d entries)", d.ring.SQEntries())
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	canceled := 0
	for _, name := range names {
		got := log[name]
		if len(got) != 1 || (got[0] != 0 && got[0] != -int32(unix.ECANCELED)) {
			t.Errorf("%s: completions %v, want one 0 or ECANCELED", name, got)
		}
		if len(got) == 1 && got[0] != 0 {
			canceled++
		}
	}
	if canceled == 0 {
		t.Errorf("no op waiting for the SQ was cancelled: %v", log)
	}
}

// TestDriverEnterErrorsReported: an io_uring_enter error the driver cannot cure (not
// EINTR, EBUSY or EAGAIN) is returned by Wait, from the flush of a non-blocking Wait
// and from a blocking one alike, and loses nothing: the op queued then completes once
// on the next Wait.
func TestDriverEnterErrorsReported(t *testing.T) {
	checkLeaks(t)
	fk := newFaultKernel(1)
	d, err := NewDriver(DriverConfig{kernel: fk})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for _, timeout := range []time.Duration{0, testTimeout} {
		log := opLog{}
		if err := d.Submit(log.op("nop", poller.Op{Code: poller.OpNop})); err != nil {
			t.Fatal(err)
		}
		if timeout != 0 {
			// A blocking Wait with nothing ready goes straight to the kernel.
			if len(log["nop"]) != 0 {
				t.Fatal("the nop completed inside Submit")
			}
		}
		fk.enterFaults = append(fk.enterFaults[:0], enterFault{errno: unix.EIO}, enterFault{errno: unix.EIO})
		if _, err := d.Wait(timeout); !errors.Is(err, unix.EIO) {
			t.Fatalf("Wait(%v) with a failing enter = %v, want EIO", timeout, err)
		}
		fk.enterFaults = fk.enterFaults[:0]
		waitFor(t, d, "the nop", func() bool { return len(log["nop"]) > 0 })
		log.want(t, map[string]int32{"nop": 0})
	}
}

// TestDriverMsgRights: sendmsg and recvmsg through the driver carry a descriptor
// (SCM_RIGHTS). The recvmsg's Addr with Len 0 offers all of Raw for the sender's
// address, the control length comes back in Len, and the descriptor received works.
func TestDriverMsgRights(t *testing.T) {
	d := newDriver(t, DriverConfig{})
	a, b := socketPair(t, unix.SOCK_DGRAM)
	pr, pw := pipe(t)
	log := opLog{}
	send := log.op("sendmsg", poller.Op{Code: poller.OpSendmsg, Fd: a, Bufs: [][]byte{[]byte("fd")},
		Control: unix.UnixRights(pr)})
	data := make([]byte, 4)
	var from poller.Sockaddr
	ctl := make([]byte, unix.CmsgSpace(4*4))
	recv := log.op("recvmsg", poller.Op{Code: poller.OpRecvmsg, Fd: b, Bufs: [][]byte{data}, Control: ctl, Addr: &from})
	for _, op := range []*poller.Op{recv, send} {
		if err := d.Submit(op); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, d, "sendmsg and recvmsg", func() bool { return len(log["sendmsg"]) > 0 && len(log["recvmsg"]) > 0 })
	log.want(t, map[string]int32{"sendmsg": 2, "recvmsg": 2})
	if string(data[:2]) != "fd" || recv.Len <= 0 || recv.Len > int64(len(ctl)) {
		t.Fatalf("recvmsg: data %q, control length %d", data[:2], recv.Len)
	}
	if int(from.Len) > len(from.Raw) {
		t.Fatalf("recvmsg: address length %d beyond Raw", from.Len)
	}
	msgs, err := unix.ParseSocketControlMessage(ctl[:recv.Len])
	if err != nil || len(msgs) != 1 {
		t.Fatalf("control messages: %v, %v", msgs, err)
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		t.Fatalf("rights: %v, %v", fds, err)
	}
	defer unix.Close(fds[0])
	if _, err := unix.Write(pw, []byte("x")); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 1)
	if n, err := unix.Read(fds[0], got); n != 1 || err != nil || got[0] != 'x' {
		t.Fatalf("read from the received descriptor: %d %v %q", n, err, got)
	}
}

// TestDriverWakeCoalescesAndEndsAtClose: two Wakes before a Wait coalesce into one
// early return (the next Wait sleeps its timeout); after Close every Wake returns
// ErrClosed, also when a wake was still pending at Close.
func TestDriverWakeCoalescesAndEndsAtClose(t *testing.T) {
	checkLeaks(t)
	d, err := NewDriver(DriverConfig{})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := d.Wake(); err != nil {
			t.Fatalf("Wake: %v", err)
		}
	}
	begin := time.Now()
	if _, err := d.Wait(testTimeout); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(begin); el > testTimeout/2 {
		t.Fatalf("a woken Wait returned after %v", el)
	}
	begin = time.Now()
	if _, err := d.Wait(50 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(begin); el < 45*time.Millisecond {
		t.Fatalf("the second Wait returned after %v: the two Wakes were not coalesced", el)
	}
	if err := d.Wake(); err != nil { // pending when Close comes
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := d.Wake(); !errors.Is(err, poller.ErrClosed) {
			t.Fatalf("Wake after Close = %v, want ErrClosed", err)
		}
	}
}

// TestRingSQThreadCPURange: with SetupSQAff, a CPU number the kernel's 32-bit field
// cannot hold, or a negative one, is refused with EINVAL before any ring is set up
// (it would otherwise be truncated into some other CPU).
func TestRingSQThreadCPURange(t *testing.T) {
	checkLeaks(t)
	for _, cpu := range []int{-1, 1 << 40} {
		r, err := New(Config{Entries: 4, Flags: SetupSQPoll | SetupSQAff, SQThreadCPU: cpu})
		if err == nil {
			r.Close()
		}
		if !errors.Is(err, unix.EINVAL) {
			t.Errorf("New(SQThreadCPU %d) = %v, want EINVAL", cpu, err)
		}
	}
}

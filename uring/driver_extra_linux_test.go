package uring

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/zokio/zokio/poller"
)

// Tests of what the io_uring driver does beyond the shared contract.

func newDriver(t *testing.T, cfg DriverConfig) *Driver {
	t.Helper()
	checkLeaks(t)
	d, err := NewDriver(cfg)
	if err != nil {
		t.Fatalf("NewDriver: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// waitFor calls Wait until cond holds, failing after testTimeout.
func waitFor(t *testing.T, d *Driver, what string, cond func() bool) {
	t.Helper()
	end := time.Now().Add(testTimeout)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("timed out waiting for %s", what)
		}
		if _, err := d.Wait(time.Until(end)); err != nil {
			t.Fatal(err)
		}
	}
}

// TestDriverMultishotSurvivesOverflow accepts many connections through a 4-entry CQ:
// the kernel ends the multishot accept on overflow, and the driver must re-arm it so
// that the caller sees every connection in one stream.
func TestDriverMultishotSurvivesOverflow(t *testing.T) {
	d := newDriver(t, DriverConfig{Entries: 4, CQEntries: 4})
	lfd, port := listenTCP(t)
	var fds []int32
	final := false
	acc := &poller.Op{Code: poller.OpAccept, Fd: lfd, Flags: poller.FlagMultishot,
		Arg: unix.SOCK_CLOEXEC | unix.SOCK_NONBLOCK, Done: func(op *poller.Op) {
			if op.Res >= 0 {
				fds = append(fds, op.Res)
			}
			final = !op.More()
		}}
	if err := d.Submit(acc); err != nil {
		t.Fatal(err)
	}
	const conns = 64
	for i := 0; i < conns; i++ {
		c := dialTCP(t, port)
		defer unix.Close(c)
	}
	waitFor(t, d, "64 accepted connections", func() bool { return len(fds) >= conns || final })
	for _, fd := range fds {
		unix.Close(int(fd))
	}
	if final || len(fds) != conns {
		t.Fatalf("accepted %d of %d, stream ended early: %v", len(fds), conns, final)
	}
	if d.Stats().Rearms == 0 {
		t.Log("the kernel never ended the multishot accept here; the re-arm path did not run")
	}
	if err := d.Cancel(acc); err != nil {
		t.Fatal(err)
	}
	waitFor(t, d, "final accept", func() bool { return final })
}

// TestDriverDropsStaleCompletions hands dispatch completions whose generation or slot
// does not match an op in flight: they must be dropped, never delivered.
func TestDriverDropsStaleCompletions(t *testing.T) {
	d := newDriver(t, DriverConfig{})
	calls := 0
	op := &poller.Op{Code: poller.OpTimeout, Timeout: time.Hour, Done: func(*poller.Op) { calls++ }}
	if err := d.Submit(op); err != nil {
		t.Fatal(err)
	}
	_, gen, idx := splitUserData(op.Ref)
	for _, ud := range []uint64{
		userData(tagOp, gen+1, idx), // an older or newer occupant of the slot
		userData(tagOp, gen, idx+1), // a slot that holds nothing
		userData(tagOp, 0, 1<<20),   // beyond the table
	} {
		d.dispatchAll([]CQE{{UserData: ud, Res: 0}})
	}
	if calls != 0 || d.Stats().Stale != 3 {
		t.Fatalf("stale completions: %d delivered, %d counted stale", calls, d.Stats().Stale)
	}
	if err := d.Cancel(op); err != nil {
		t.Fatal(err)
	}
	waitFor(t, d, "cancelled timer", func() bool { return calls == 1 })
	if op.Res != -int32(unix.ECANCELED) {
		t.Fatalf("cancelled timer: res %d", op.Res)
	}
}

// TestDriverFixedFilesAndBuffers uses the registered file table and registered buffers
// through the driver's ops (FlagFixedFile, FlagFixedBuffer).
func TestDriverFixedFilesAndBuffers(t *testing.T) {
	d := newDriver(t, DriverConfig{})
	if !d.Info().Features.Has(poller.FeatFixedFiles | poller.FeatFixedBuffers) {
		t.Fatal("the io_uring driver must offer fixed files and buffers")
	}
	name := filepath.Join(t.TempDir(), "fixed")
	if err := os.WriteFile(name, bytes.Repeat([]byte("0123456789abcdef"), 256), 0o644); err != nil {
		t.Fatal(err)
	}
	fd, err := unix.Open(name, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	mem, err := unix.Mmap(-1, 0, 8192, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(mem)
	ring := d.Ring()
	if err := ring.RegisterFilesSparse(8); err != nil {
		t.Fatal(err)
	}
	if _, err := ring.RegisterFilesUpdate(3, []int32{int32(fd)}); err != nil {
		t.Fatal(err)
	}
	if err := ring.RegisterBuffers([][]byte{mem}); err != nil {
		t.Fatal(err)
	}
	done := 0
	rd := &poller.Op{Code: poller.OpRead, Fd: 3, Flags: poller.FlagFixedFile | poller.FlagFixedBuffer,
		BufIndex: 0, Buf: mem[100:116], Offset: 16, Done: func(*poller.Op) { done++ }}
	if err := d.Submit(rd); err != nil {
		t.Fatal(err)
	}
	waitFor(t, d, "fixed read", func() bool { return done == 1 })
	if rd.Res != 16 || string(mem[100:116]) != "0123456789abcdef" {
		t.Fatalf("fixed read: res %d data %q", rd.Res, mem[100:116])
	}
	copy(mem[200:], "FIXED")
	wr := &poller.Op{Code: poller.OpWrite, Fd: 3, Flags: poller.FlagFixedFile | poller.FlagFixedBuffer,
		Buf: mem[200:205], Offset: 0, Done: func(*poller.Op) { done++ }}
	if err := d.Submit(wr); err != nil {
		t.Fatal(err)
	}
	waitFor(t, d, "fixed write", func() bool { return done == 2 })
	if b, _ := os.ReadFile(name); wr.Res != 5 || string(b[:5]) != "FIXED" {
		t.Fatalf("fixed write: res %d, file starts %q", wr.Res, b[:5])
	}
	cl := &poller.Op{Code: poller.OpClose, Fd: 3, Flags: poller.FlagFixedFile, Done: func(*poller.Op) { done++ }}
	if err := d.Submit(cl); err != nil {
		t.Fatal(err)
	}
	waitFor(t, d, "fixed close", func() bool { return done == 3 })
	if cl.Res != 0 {
		t.Fatalf("close of a fixed slot: %v", cl.Err())
	}
}

// TestDriverFixedBufferSendZC sends from a registered buffer with SEND_ZC: the byte
// count, then the notification that hands the buffer back, and the peer gets the bytes.
// A plain send with FlagFixedBuffer is refused before it reaches the kernel, which
// would answer EINVAL.
func TestDriverFixedBufferSendZC(t *testing.T) {
	d := newDriver(t, DriverConfig{})
	if !d.Info().Features.Has(poller.FeatFixedBuffers | poller.FeatSendZC) {
		t.Fatal("the io_uring driver must offer fixed buffers and SEND_ZC on this kernel")
	}
	mem, err := unix.Mmap(-1, 0, 16384, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(mem)
	if err := d.Ring().RegisterBuffers([][]byte{mem}); err != nil {
		t.Fatal(err)
	}
	client, server := tcpPair(t)
	payload := mem[100 : 100+8000]
	for i := range payload {
		payload[i] = byte(i * 7)
	}
	want := bytes.Clone(payload)

	plain := &poller.Op{Code: poller.OpSend, Fd: client, Flags: poller.FlagFixedBuffer, Buf: payload,
		Done: func(*poller.Op) { t.Error("a refused op completed") }}
	if err := d.Submit(plain); !errors.Is(err, unix.EINVAL) {
		t.Fatalf("plain send with FlagFixedBuffer: %v, want EINVAL", err)
	}

	var sent int32
	var notified bool
	op := &poller.Op{Code: poller.OpSendZC, Fd: client, Flags: poller.FlagFixedBuffer, BufIndex: 0,
		Buf: payload, Arg: unix.MSG_NOSIGNAL, Done: func(op *poller.Op) {
			switch {
			case op.Result&poller.ResNotif != 0:
				notified = true
			case op.Res < 0:
				t.Errorf("send_zc: %v", op.Err())
			default:
				sent = op.Res
			}
		}}
	if err := d.Submit(op); err != nil {
		t.Fatal(err)
	}
	waitFor(t, d, "send_zc notification", func() bool { return notified })
	if sent <= 0 {
		t.Fatalf("send_zc sent %d bytes", sent)
	}
	got := make([]byte, sent)
	for n := 0; n < len(got); {
		k, err := unix.Read(server, got[n:])
		if err != nil || k == 0 {
			t.Fatalf("read: %d, %v", k, err)
		}
		n += k
	}
	if !bytes.Equal(got, want[:sent]) {
		t.Fatal("the peer got other bytes than the registered buffer held")
	}
}

// TestDriverRoundTripAllocs checks the steady-state hot path allocates nothing: a send
// and a recv on a socket pair, and a timer, each submitted and completed.
func TestDriverRoundTripAllocs(t *testing.T) {
	d := newDriver(t, DriverConfig{})
	p, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	msg, buf := []byte("ping"), make([]byte, 64)
	done := 0
	count := func(*poller.Op) { done++ }
	send := &poller.Op{Code: poller.OpSend, Fd: p[0], Buf: msg, Done: count}
	recv := &poller.Op{Code: poller.OpRecv, Fd: p[1], Buf: buf, Done: count}
	timer := &poller.Op{Code: poller.OpTimeout, Timeout: time.Microsecond, Done: count}
	round := func() {
		done = 0
		for _, op := range []*poller.Op{recv, send, timer} {
			if err := d.Submit(op); err != nil {
				t.Fatal(err)
			}
		}
		for done < 3 {
			if _, err := d.Wait(time.Second); err != nil {
				t.Fatal(err)
			}
		}
	}
	round() // warm the slot table and scratch
	if n := testing.AllocsPerRun(200, round); n != 0 {
		t.Fatalf("round trip allocates %.1f times", n)
	}
	if recv.Res != 4 || send.Res != 4 || timer.Res != -int32(syscall.ETIME) {
		t.Fatalf("results: recv %d send %d timer %d", recv.Res, send.Res, timer.Res)
	}
}

func listenTCP(t *testing.T) (fd, port int) {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Listen(fd, 1024); err != nil {
		t.Fatal(err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return fd, sa.(*unix.SockaddrInet4).Port
}

func dialTCP(t *testing.T, port int) int {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Connect(fd, &unix.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		unix.Close(fd)
		t.Fatal(err)
	}
	return fd
}

// TestDriverCancelPendingChainMember cancels members of a link chain before the chain
// reached the kernel (found by runtime's FuzzDo: the cancelled member's slot was freed
// while its index stayed in the pending list, and the next Wait dereferenced it). The
// chain breaks there, as a failed link would: the member and the ops after it that
// join the chain complete with ECANCELED, the members before it run, and later ops
// run normally.
func TestDriverCancelPendingChainMember(t *testing.T) {
	d := newDriver(t, DriverConfig{})
	res := map[string][]int32{}
	nop := func(name string, flags poller.OpFlags) *poller.Op {
		return &poller.Op{Code: poller.OpNop, Flags: flags, Done: func(op *poller.Op) { res[name] = append(res[name], op.Res) }}
	}
	submit := func(op *poller.Op) {
		t.Helper()
		if err := d.Submit(op); err != nil {
			t.Fatal(err)
		}
	}
	// The open chain's only member is cancelled; the op that would end it is cut too.
	a := nop("a", poller.FlagLink)
	submit(a)
	if err := d.Cancel(a); err != nil {
		t.Fatal(err)
	}
	submit(nop("b", 0))
	// A chain of three whose middle member is cancelled while the chain is open:
	// c runs alone, d and the rest of the chain (e) are cancelled.
	submit(nop("c", poller.FlagLink))
	dd := nop("d", poller.FlagLink)
	submit(dd)
	if err := d.Cancel(dd); err != nil {
		t.Fatal(err)
	}
	submit(nop("e", 0))
	// Then ordinary ops run.
	submit(nop("f", 0))
	ecanceled := -int32(unix.ECANCELED)
	want := map[string]int32{"a": ecanceled, "b": ecanceled, "c": 0, "d": ecanceled, "e": ecanceled, "f": 0}
	waitFor(t, d, "every op", func() bool { return len(res) == len(want) })
	for name, w := range want {
		if got := res[name]; len(got) != 1 || got[0] != w {
			t.Errorf("%s: completions %v, want [%d]", name, got, w)
		}
	}
}

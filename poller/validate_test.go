package poller

import (
	"errors"
	"io/fs"
	"math"
	"net"
	"strings"
	"syscall"
	"testing"
)

// TestValidateReasons gives Validate one mistake at a time and checks that each gets
// an *InvalidOpError (EINVAL) naming that mistake, so that a caller can tell what to
// fix (C7): the same text on every driver, since they all call Validate first.
func TestValidateReasons(t *testing.T) {
	nop := func(*Op) {}
	buf := []byte("x")
	for _, c := range []struct {
		op     Op
		reason string
	}{
		{Op{Code: OpRecv, Flags: 1 << 15, Buf: buf}, "unknown flags"},
		{Op{Code: OpRead, Flags: FlagMultishot, Buf: buf}, "FlagMultishot is only for accept, recv and poll"},
		{Op{Code: OpRecv, Flags: FlagMultishot, Buf: buf}, "multishot recv needs FlagBufferSelect"},
		{Op{Code: OpAccept, Flags: FlagMultishot, Addr: &Sockaddr{}}, "multishot accept takes no Addr"},
		{Op{Code: OpPoll, Flags: FlagMultishot | FlagLink, Arg: 1}, "a multishot op cannot be linked"},
		{Op{Code: OpRead, Flags: FlagBufferSelect}, "FlagBufferSelect is only for recv"},
		{Op{Code: OpRecv, Flags: FlagBufferSelect, Buf: buf}, "Buf must be nil with FlagBufferSelect"},
		{Op{Code: OpSend, Flags: FlagFixedBuffer, Buf: buf}, "FlagFixedBuffer is only for read, write and send_zc"},
		{Op{Code: OpRecv, Buf: buf, Timeout: -1}, "negative Timeout"},
		{Op{Code: OpRecv, Flags: FlagLink, Buf: buf, Timeout: 1}, "Timeout cannot be combined with FlagLink or FlagMultishot"},
		{Op{Code: OpRead}, "nil or empty buffer"},
		{Op{Code: OpReadv, Bufs: [][]byte{nil, {}}}, "nil or empty buffers"},
		{Op{Code: OpRecvmsg, Bufs: [][]byte{{}}}, "no buffers"},
		{Op{Code: OpOpenat, Path: "a\x00b"}, "path contains a NUL byte"},
		{Op{Code: OpRenameat, Path: "a\x00", Path2: "b"}, "path contains a NUL byte"},
		{Op{Code: OpRenameat, Path: "a", Path2: "\x00"}, "path contains a NUL byte"},
		{Op{Code: OpStatx, Buf: make([]byte, 8)}, "Buf shorter than StatxSize"},
		{Op{Code: OpConnect}, "missing or bad Addr"},
		{Op{Code: OpFtruncate, Len: -1}, "negative offset or length"},
		{Op{Code: OpTimeout, Flags: FlagLink, Timeout: 1}, "timeout takes no flags"},
		{Op{Code: OpWrite, Buf: buf, Offset: -2}, "negative offset"},
		{Op{Code: OpWritev, Bufs: make([][]byte, MaxBufs+1)}, "more than MaxBufs buffers"},
		{Op{Code: OpSendmsg, Bufs: [][]byte{buf}, Addr: &Sockaddr{Len: 1 << 20}}, "Addr.Len larger than Addr.Raw"},
		{Op{Code: OpSplice, Len: 0}, "splice Len not in 1..MaxRW"},
		{Op{Code: OpSplice, Len: 1, Flags: FlagFixedFile}, "FlagFixedFile is not for splice"},
		{Op{Code: OpSplice, Len: 1, Arg: 1 << 30}, "unknown splice flags"},
		{Op{Code: OpSplice, Len: 1, Timeout: 1}, "Timeout is not for splice"},
	} {
		op := c.op
		op.Done = nop
		err := Validate(&op)
		var inv *InvalidOpError
		if !errors.As(err, &inv) || !errors.Is(err, syscall.EINVAL) {
			t.Errorf("Validate(%v, flags %#x) = %v, want an *InvalidOpError", op.Code, op.Flags, err)
			continue
		}
		if inv.Reason != c.reason || inv.Code != op.Code {
			t.Errorf("Validate(%v, flags %#x): %q for %v, want %q", op.Code, op.Flags, inv.Reason, inv.Code, c.reason)
		}
		if want := "poller: invalid " + op.Code.String() + " op: " + c.reason; err.Error() != want {
			t.Errorf("error text %q, want %q", err.Error(), want)
		}
	}
	if math.MaxInt > math.MaxInt32 { // an int wider than a descriptor (C int)
		for _, op := range []Op{{Fd: math.MaxInt}, {Fd2: math.MinInt}} {
			op.Code, op.Buf, op.Done = OpRecv, buf, nop
			var inv *InvalidOpError
			if err := Validate(&op); !errors.As(err, &inv) || inv.Reason != "descriptor out of range" {
				t.Errorf("Validate(Fd %d, Fd2 %d) = %v, want descriptor out of range", op.Fd, op.Fd2, err)
			}
		}
	}
}

// TestErrorValues checks what callers match and print: ErrClosed is both the net and
// the os closed error and says the driver is closed; UnsupportedError names the driver,
// the opcode and the part it cannot do; unknown opcodes print their number.
func TestErrorValues(t *testing.T) {
	if !errors.Is(ErrClosed, net.ErrClosed) || !errors.Is(ErrClosed, fs.ErrClosed) {
		t.Errorf("ErrClosed is not net.ErrClosed and fs.ErrClosed")
	}
	if got := ErrClosed.Error(); got != "poller: driver closed" {
		t.Errorf("ErrClosed says %q", got)
	}
	for _, c := range []struct {
		err  *UnsupportedError
		want string
	}{
		{&UnsupportedError{Driver: "epoll", Code: OpSendZC}, "poller: epoll driver does not support send_zc"},
		{&UnsupportedError{Driver: "kqueue", Code: OpRead, What: "FlagFixedBuffer"},
			"poller: kqueue driver does not support read with FlagFixedBuffer"},
	} {
		if got := c.err.Error(); got != c.want {
			t.Errorf("%#v says %q, want %q", c.err, got, c.want)
		}
		if !errors.Is(c.err, errors.ErrUnsupported) {
			t.Errorf("%v is not errors.ErrUnsupported", c.err)
		}
	}
	if got := Opcode(200).String(); got != "opcode(200)" {
		t.Errorf("Opcode(200) prints %q", got)
	}
	if got := (&InvalidOpError{Code: 0, Reason: "unknown opcode"}).Error(); !strings.Contains(got, "opcode(0)") {
		t.Errorf("an unknown opcode's error says %q", got)
	}
}

// TestFeaturesString lists features by name in bit order, and "none" for none.
func TestFeaturesString(t *testing.T) {
	for _, c := range []struct {
		f    Features
		want string
	}{
		{0, "none"},
		{FeatSQPoll, "sqpoll"},
		{FeatNativeCompletion | FeatBufferRing | FeatIncrementalBuffers, "native-completion|buffer-ring|incremental-buffers"},
	} {
		if got := c.f.String(); got != c.want {
			t.Errorf("Features(%#x).String() = %q, want %q", uint32(c.f), got, c.want)
		}
	}
}

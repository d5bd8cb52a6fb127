package uring

import (
	"testing"

	"golang.org/x/sys/unix"

	"github.com/zokio/zokio/poller"
)

// TestPrepLengthsCapped: a Prep method given a buffer longer than poller.MaxRW puts
// MaxRW in the SQE (a short transfer, as the kernel would make of it), never the
// length cut to 32 bits. The buffer is mapped without reserving memory and never
// touched: the SQE only records its address.
func TestPrepLengthsCapped(t *testing.T) {
	mem, err := unix.Mmap(-1, 0, 1<<32+16, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_NORESERVE)
	if err != nil {
		t.Skipf("mapping 4 GiB + 16 bytes: %v", err)
	}
	defer unix.Munmap(mem)
	for _, n := range []int{16, poller.MaxRW, poller.MaxRW + 1, 1 << 31, 1<<32 + 16} {
		buf := mem[:n]
		want := uint32(min(n, poller.MaxRW))
		var s SQE
		for name, prep := range map[string]func(){
			"PrepRead":       func() { s.PrepRead(0, buf, 0) },
			"PrepWrite":      func() { s.PrepWrite(0, buf, 0) },
			"PrepReadFixed":  func() { s.PrepReadFixed(0, buf, 0, 0) },
			"PrepWriteFixed": func() { s.PrepWriteFixed(0, buf, 0, 0) },
			"PrepRecv":       func() { s.PrepRecv(0, buf, 0) },
			"PrepSend":       func() { s.PrepSend(0, buf, 0) },
			"PrepSendZC":     func() { s.PrepSendZC(0, buf, 0, 0) },
		} {
			prep()
			if s.Len != want || s.Addr != addrOf(mem) {
				t.Errorf("%s of %d bytes: Len %d, want %d", name, n, s.Len, want)
			}
		}
	}
}

// TestParseRecvmsgOutHugeRoom: a msghdr whose name or control room is larger than any
// buffer (a control length past MaxInt64 included, which turns negative as an int) is
// refused, never sliced into a panic.
func TestParseRecvmsgOutHugeRoom(t *testing.T) {
	buf := make([]byte, 256)
	for _, msg := range []unix.Msghdr{
		{Controllen: 1 << 63},
		{Controllen: ^uint64(0)},
		{Controllen: 1 << 40},
		{Namelen: ^uint32(0)},
		{Namelen: 200, Controllen: 200},
	} {
		if _, ok := ParseRecvmsgOut(buf, &msg); ok {
			t.Errorf("ParseRecvmsgOut with Namelen %d, Controllen %d accepted a %d-byte buffer", msg.Namelen, msg.Controllen, len(buf))
		}
	}
	if _, ok := ParseRecvmsgOut(buf, &unix.Msghdr{Namelen: 16, Controllen: 64}); !ok {
		t.Error("ParseRecvmsgOut refused a layout that fits")
	}
}

package uring

import (
	"encoding/binary"
	"errors"
	"os"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TestProbe checks that the kernel reports every opcode this package
// prepares; on a kernel that lacks one, the tests using it skip.
func TestProbe(t *testing.T) {
	r := newRing(t, Config{Entries: 4})
	p, err := r.Probe()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("last opcode %d, %d ops reported", p.LastOp, p.OpsLen)
	prepared := []Opcode{OpNop, OpRead, OpWrite, OpReadv, OpWritev, OpReadFixed, OpWriteFixed,
		OpFsync, OpFallocate, OpOpenat, OpClose, OpStatx, OpUnlinkat, OpRenameat, OpMkdirat,
		OpFtruncate, OpAccept, OpConnect, OpRecv, OpSend, OpSendZC, OpSendmsg, OpRecvmsg,
		OpShutdown, OpPollAdd, OpPollRemove, OpTimeout, OpTimeoutRemove, OpLinkTimeout,
		OpAsyncCancel, OpMsgRing}
	for _, op := range prepared {
		if !p.Supports(op) {
			t.Errorf("kernel lacks opcode %d", op)
		}
	}
	if p.Supports(Opcode(p.LastOp + 1)) {
		t.Error("Supports reports an opcode past LastOp")
	}
}

func TestRegisterEventfd(t *testing.T) {
	r := newRing(t, Config{Entries: 4})
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(efd)
	if err := r.RegisterEventfd(efd); err != nil {
		t.Fatalf("RegisterEventfd: %v", err)
	}
	s := sqe(t, r)
	s.PrepNop()
	s.SetUserData(1)
	reapOne(t, r, 1)
	var b [8]byte
	if n, err := unix.Read(efd, b[:]); n != 8 || err != nil || binary.NativeEndian.Uint64(b[:]) == 0 {
		t.Fatalf("eventfd read: %d, %v, %v", n, err, b)
	}
	if err := r.UnregisterEventfd(); err != nil {
		t.Fatalf("UnregisterEventfd: %v", err)
	}
}

// TestRegisterRaw uses the escape hatch to read the async worker limits
// (zeros query without changing them).
func TestRegisterRaw(t *testing.T) {
	r := newRing(t, Config{Entries: 4})
	var limits [2]uint32 // bounded, unbounded
	if _, err := r.Register(RegisterIOWQMaxWorkers, unsafe.Pointer(&limits), 2); err != nil {
		t.Fatalf("RegisterIOWQMaxWorkers: %v", err)
	}
	if limits[0] == 0 || limits[1] == 0 {
		t.Fatalf("worker limits %v", limits)
	}
}

func TestRegisterErrors(t *testing.T) {
	r := newRing(t, Config{Entries: 4})
	var se *os.SyscallError
	if err := r.RegisterBuffers(nil); !errors.As(err, &se) || !errors.Is(err, unix.EINVAL) {
		t.Fatalf("RegisterBuffers(nil): %v", err)
	}
	if err := r.UnregisterFiles(); !errors.Is(err, unix.ENXIO) {
		t.Fatalf("UnregisterFiles without a table: %v", err)
	}
	if _, err := r.SetupBufRing(3, 1, 0); !errors.Is(err, unix.EINVAL) {
		t.Fatalf("SetupBufRing(3): %v", err)
	}
	if n, err := r.RegisterFilesUpdate(0, nil); n != 0 || err != nil {
		t.Fatalf("empty RegisterFilesUpdate: %d, %v", n, err)
	}
}

// TestBufRingLifecycle frees buffer rings explicitly and through Close,
// counting mappings through the fault kernel.
func TestBufRingLifecycle(t *testing.T) {
	checkLeaks(t)
	fk := newFaultKernel(1)
	r, err := New(Config{Entries: 4, kernel: fk})
	if err != nil {
		t.Fatal(err)
	}
	base := fk.live
	b1, err := r.SetupBufRing(8, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.SetupBufRing(8, 1, 0); !errors.Is(err, unix.EEXIST) {
		t.Fatalf("second ring for group 1: %v", err)
	}
	if _, err := r.SetupBufRing(16, 2, BufRingMmap); err != nil {
		t.Fatal(err)
	}
	if b1.Entries() != 8 || b1.Mask() != 7 || b1.Group() != 1 || fk.live != base+2 {
		t.Fatalf("entries %d mask %d group %d, %d mappings", b1.Entries(), b1.Mask(), b1.Group(), fk.live-base)
	}
	if err := b1.Free(); err != nil || b1.Free() != nil {
		t.Fatalf("Free: %v", err)
	}
	fk.failMmapAt = fk.mmaps + 1
	if _, err := r.SetupBufRing(8, 3, 0); !errors.Is(err, unix.ENOMEM) {
		t.Fatalf("SetupBufRing with mmap failing: %v", err)
	}
	// A kernel-allocated ring whose mapping fails is unregistered again.
	fk.failMmapAt = fk.mmaps + 1
	if _, err := r.SetupBufRing(8, 5, BufRingMmap); !errors.Is(err, unix.ENOMEM) {
		t.Fatalf("SetupBufRing(BufRingMmap) with mmap failing: %v", err)
	}
	if _, err := r.SetupBufRing(8, 5, BufRingMmap); err != nil {
		t.Fatalf("group 5 left registered: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if fk.live != 0 {
		t.Fatalf("%d mappings left after Close", fk.live)
	}
	if _, err := r.SetupBufRing(8, 4, 0); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("SetupBufRing after Close: %v", err)
	}
}

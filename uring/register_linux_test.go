package uring

import (
	"encoding/binary"
	"errors"
	"os"
	"strconv"
	"strings"
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

// TestRegisterBuffersSparse: a sparse buffer table starts empty and pins
// nothing; RegisterBuffersUpdate fills a slot (READ_FIXED and WRITE_FIXED
// then use it), empties it (the slot then refuses fixed ops) and fills it
// again with other memory. VmPin in /proc/self/status follows the pins.
func TestRegisterBuffersSparse(t *testing.T) {
	r := newRing(t, Config{Entries: 4})
	pin0 := vmPinKB(t)
	if err := r.RegisterBuffersSparse(8); err != nil {
		t.Fatalf("RegisterBuffersSparse: %v", err)
	}
	if pin := vmPinKB(t); pin != pin0 {
		t.Errorf("an empty table pins %d kB", pin-pin0)
	}
	if err := r.RegisterBuffersSparse(8); !errors.Is(err, unix.EBUSY) {
		t.Fatalf("second table: %v, want EBUSY", err)
	}
	if err := r.RegisterBuffers([][]byte{make([]byte, 8)}); !errors.Is(err, unix.EBUSY) {
		t.Fatalf("RegisterBuffers over a sparse table: %v, want EBUSY", err)
	}
	f := tempFile(t, []byte("sparse buffer table"))
	fd := int(f.Fd())
	mem, other := mapTest(t, 64<<10), mapTest(t, 4096)

	readFixed := func(ud uint64, b []byte, idx uint16) CQE {
		t.Helper()
		s := sqe(t, r)
		s.PrepReadFixed(fd, b, 0, idx)
		s.SetUserData(ud)
		return reapOne(t, r, ud)
	}
	if c := readFixed(1, mem[:6], 3); c.Res >= 0 {
		t.Fatalf("read_fixed from an empty slot: %+v", c)
	}
	if n, err := r.RegisterBuffersUpdate(3, [][]byte{mem}); n != 1 || err != nil {
		t.Fatalf("fill slot 3: %d, %v", n, err)
	}
	if pin := vmPinKB(t); pin != pin0+64 {
		t.Errorf("64 KiB in slot 3 pins %d kB", pin-pin0)
	}
	wantRes(t, readFixed(2, mem[1000:1006], 3), 6)
	if string(mem[1000:1006]) != "sparse" {
		t.Fatalf("read_fixed %q", mem[1000:1006])
	}
	if c := readFixed(3, other[:6], 3); c.Res != errnoRes(unix.EFAULT) {
		t.Fatalf("read_fixed of memory outside slot 3: %+v, want EFAULT", c)
	}
	copy(mem[5000:], "SPARSE")
	s := sqe(t, r)
	s.PrepWriteFixed(fd, mem[5000:5006], 0, 3)
	s.SetUserData(4)
	wantRes(t, reapOne(t, r, 4), 6)

	if n, err := r.RegisterBuffersUpdate(3, [][]byte{nil}); n != 1 || err != nil {
		t.Fatalf("empty slot 3: %d, %v", n, err)
	}
	if pin := vmPinKB(t); pin != pin0 {
		t.Errorf("an emptied slot still pins %d kB", pin-pin0)
	}
	if c := readFixed(5, mem[:6], 3); c.Res >= 0 {
		t.Fatalf("read_fixed from an emptied slot: %+v", c)
	}
	if n, err := r.RegisterBuffersUpdate(3, [][]byte{other}); n != 1 || err != nil {
		t.Fatalf("refill slot 3: %d, %v", n, err)
	}
	wantRes(t, readFixed(6, other[:6], 3), 6)
	if string(other[:6]) != "SPARSE" {
		t.Fatalf("read_fixed after reuse %q", other[:6])
	}
	if c := readFixed(7, mem[:6], 3); c.Res != errnoRes(unix.EFAULT) {
		t.Fatalf("read_fixed of the slot's old memory: %+v, want EFAULT", c)
	}

	if _, err := r.RegisterBuffersUpdate(7, [][]byte{mem, other}); !errors.Is(err, unix.EINVAL) {
		t.Fatalf("update past the table's end: %v, want EINVAL", err)
	}
	if n, err := r.RegisterBuffersUpdate(0, nil); n != 0 || err != nil {
		t.Fatalf("empty update: %d, %v", n, err)
	}
	if err := r.UnregisterBuffers(); err != nil {
		t.Fatalf("UnregisterBuffers: %v", err)
	}
	if pin := vmPinKB(t); pin != pin0 {
		t.Errorf("%d kB still pinned after UnregisterBuffers", pin-pin0)
	}
	if _, err := r.RegisterBuffersUpdate(0, [][]byte{mem}); !errors.Is(err, unix.ENXIO) {
		t.Fatalf("update without a table: %v, want ENXIO", err)
	}
}

// mapTest maps size bytes outside the Go heap, unmapped at the end of the test.
func mapTest(t *testing.T, size int) []byte {
	t.Helper()
	mem, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Munmap(mem) })
	return mem
}

// vmPinKB reads the process's pinned memory (VmPin, which io_uring's buffer
// registration adds to whether or not RLIMIT_MEMLOCK applies).
func vmPinKB(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "VmPin:"); ok {
			kb, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			if err != nil {
				t.Fatalf("VmPin line %q: %v", line, err)
			}
			return kb
		}
	}
	t.Skip("no VmPin in /proc/self/status")
	return 0
}

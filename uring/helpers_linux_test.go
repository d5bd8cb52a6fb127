package uring

import (
	"errors"
	"math/rand"
	"net"
	"os"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// testTimeout bounds every wait in the tests.
const testTimeout = 10 * time.Second

// warmUp makes the Go runtime open its lazily created descriptors (the
// netpoller's epoll fd and eventfd) before any test counts fds.
func warmUp() {
	pr, pw, err := os.Pipe()
	if err == nil {
		pr.Close()
		pw.Close()
	}
	if ln, err := net.Listen("tcp", "127.0.0.1:0"); err == nil {
		ln.Close()
	}
}

// checkLeaks fails the test if it leaves more fds open, or more io_uring
// mappings, than it found.
func checkLeaks(t *testing.T) {
	t.Helper()
	fds, maps := countFDs(t), uringMaps(t)
	t.Cleanup(func() {
		if n := countFDs(t); n != fds {
			t.Errorf("fd leak: %d open before, %d after", fds, n)
		}
		if n := uringMaps(t); n != maps {
			t.Errorf("io_uring mapping leak: %d before, %d after", maps, n)
		}
	})
}

func countFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// uringMaps counts mappings of io_uring files in /proc/self/maps.
func uringMaps(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), "io_uring")
}

// newRing sets up a ring closed at the end of the test, with leak checks.
// A kernel that refuses the configuration skips the test with the reason.
func newRing(t *testing.T, cfg Config) *Ring {
	t.Helper()
	checkLeaks(t)
	r, err := New(cfg)
	if err != nil {
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EINVAL) {
			t.Skipf("io_uring setup with flags %#x unavailable: %v", uint32(cfg.Flags), err)
		}
		t.Fatalf("New(%+v): %v", cfg, err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// requireOps skips the test when the kernel lacks one of ops.
func requireOps(t *testing.T, r *Ring, ops ...Opcode) {
	t.Helper()
	p, err := r.Probe()
	if err != nil {
		t.Fatalf("Probe: %v", err)
	}
	for _, op := range ops {
		if !p.Supports(op) {
			t.Skipf("kernel lacks opcode %d (last op %d)", op, p.LastOp)
		}
	}
}

// sqe returns the next SQE or fails the test.
func sqe(t *testing.T, r *Ring) *SQE {
	t.Helper()
	s := r.NextSQE()
	if s == nil {
		t.Fatal("SQ full")
	}
	return s
}

// reap submits what is pending and collects exactly n CQEs, failing the
// test after testTimeout.
func reap(t *testing.T, r *Ring, n int) []CQE {
	t.Helper()
	out := make([]CQE, 0, n)
	buf := make([]CQE, 64)
	deadline := time.Now().Add(testTimeout)
	for len(out) < n {
		left := time.Until(deadline)
		if left <= 0 {
			t.Fatalf("timed out with %d of %d CQEs: %+v", len(out), n, out)
		}
		if _, err := r.SubmitAndWait(uint32(n-len(out)), left); err != nil && err != unix.ETIME {
			t.Fatalf("SubmitAndWait: %v", err)
		}
		k := r.PeekCQEs(buf[:min(len(buf), n-len(out))])
		out = append(out, buf[:k]...)
	}
	return out
}

// reapOne collects one CQE and checks its user_data.
func reapOne(t *testing.T, r *Ring, ud uint64) CQE {
	t.Helper()
	c := reap(t, r, 1)[0]
	if c.UserData != ud {
		t.Fatalf("CQE user_data %d, want %d (%+v)", c.UserData, ud, c)
	}
	return c
}

// byUserData indexes CQEs, failing on duplicates.
func byUserData(t *testing.T, cqes []CQE) map[uint64]CQE {
	t.Helper()
	m := make(map[uint64]CQE, len(cqes))
	for _, c := range cqes {
		if _, dup := m[c.UserData]; dup {
			t.Fatalf("two CQEs for user_data %d: %+v", c.UserData, cqes)
		}
		m[c.UserData] = c
	}
	return m
}

// noMoreCQEs checks that nothing else completes within a short wait.
func noMoreCQEs(t *testing.T, r *Ring) {
	t.Helper()
	if _, err := r.SubmitAndWait(1, 20*time.Millisecond); err != unix.ETIME {
		var buf [8]CQE
		n := r.PeekCQEs(buf[:])
		t.Fatalf("unexpected completion (err %v): %+v", err, buf[:n])
	}
}

// wantRes checks a CQE's result.
func wantRes(t *testing.T, c CQE, res int32) {
	t.Helper()
	if c.Res != res {
		t.Fatalf("CQE %d: res %d (%v), want %d", c.UserData, c.Res, c.Err(), res)
	}
}

func errnoRes(e syscall.Errno) int32 { return -int32(e) }

// tempFile creates a file in t.TempDir holding data.
func tempFile(t *testing.T, data []byte) *os.File {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "uring")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	return f
}

// cstr returns a NUL-terminated copy of s.
func cstr(t *testing.T, s string) *byte {
	t.Helper()
	p, err := unix.BytePtrFromString(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// socketPair returns a connected pair of stream sockets, closed at cleanup.
func socketPair(t *testing.T, typ int) (int, int) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, typ|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fds[0]); unix.Close(fds[1]) })
	return fds[0], fds[1]
}

// tcpListener returns a listening TCP socket on 127.0.0.1 and its address.
func tcpListener(t *testing.T) (int, *unix.SockaddrInet4) {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Listen(fd, 128); err != nil {
		t.Fatal(err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return fd, sa.(*unix.SockaddrInet4)
}

// tcpSocket returns an unconnected TCP socket, closed at cleanup.
func tcpSocket(t *testing.T) int {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return fd
}

// rawInet4 converts an address for PrepConnect.
func rawInet4(sa *unix.SockaddrInet4) *unix.RawSockaddrInet4 {
	raw := &unix.RawSockaddrInet4{Family: unix.AF_INET, Addr: sa.Addr}
	p := (*[2]byte)(unsafe.Pointer(&raw.Port))
	p[0], p[1] = byte(sa.Port>>8), byte(sa.Port)
	return raw
}

// tcpPair returns a connected client and server TCP socket on loopback.
func tcpPair(t *testing.T) (client, server int) {
	t.Helper()
	ln, sa := tcpListener(t)
	client = tcpSocket(t)
	if err := unix.Connect(client, sa); err != nil {
		t.Fatal(err)
	}
	server, _, err := unix.Accept4(ln, unix.SOCK_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(server) })
	return client, server
}

// pipe returns a pipe, closed at cleanup.
func pipe(t *testing.T) (r, w int) {
	t.Helper()
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(p[0]); unix.Close(p[1]) })
	return p[0], p[1]
}

// faultKernel wraps the real kernel to inject failures. Its faults are
// scripted (a queue consumed in order) or drawn from a seeded generator, so
// every run is reproducible.
type faultKernel struct {
	real kernel

	setupErr   syscall.Errno // returned by setup instead of calling the kernel
	failMmapAt int           // 1-based mmap call to fail with ENOMEM; 0: none
	mmaps      int           // mmap calls made
	live       int           // mappings not yet unmapped

	enterFaults []enterFault // consumed one per enter call
	eintrRate   float64      // probability of EINTR per enter, after the script
	busyRate    float64      // probability of EBUSY or EAGAIN (half each) per enter
	shortRate   float64      // probability that an enter passes on fewer SQEs than asked
	rng         *rand.Rand
	enters      int // enter calls made
	injected    int // faults injected
}

// enterFault is one scripted io_uring_enter outcome.
type enterFault struct {
	errno     syscall.Errno // return this without calling the kernel
	maxSubmit uint32        // else, pass at most this many SQEs on (a short submit)
}

func newFaultKernel(seed int64) *faultKernel {
	return &faultKernel{real: sysKernel{}, rng: rand.New(rand.NewSource(seed))}
}

func (f *faultKernel) setup(entries uint32, p *Params) (int, syscall.Errno) {
	if f.setupErr != 0 {
		return -1, f.setupErr
	}
	return f.real.setup(entries, p)
}

func (f *faultKernel) enter(fd int, toSubmit, minComplete uint32, flags EnterFlags, arg unsafe.Pointer, argSize uintptr) (int, syscall.Errno) {
	f.enters++
	if len(f.enterFaults) > 0 {
		fl := f.enterFaults[0]
		f.enterFaults = f.enterFaults[1:]
		f.injected++
		if fl.errno != 0 {
			return -1, fl.errno
		}
		if fl.maxSubmit < toSubmit {
			// A real short submit returns at once, without waiting.
			toSubmit, flags = fl.maxSubmit, flags&^EnterGetEvents
		}
	} else if x := f.rng.Float64(); x < f.eintrRate {
		f.injected++
		return -1, unix.EINTR
	} else if x -= f.eintrRate; x < f.busyRate {
		// The kernel refuses the whole call: a completion backlog (EBUSY) or no
		// memory for the requests (EAGAIN). Nothing is consumed.
		f.injected++
		if f.rng.Intn(2) == 0 {
			return -1, unix.EBUSY
		}
		return -1, unix.EAGAIN
	} else if x -= f.busyRate; x < f.shortRate && toSubmit > 0 {
		f.injected++
		toSubmit, flags = uint32(f.rng.Intn(int(toSubmit))), flags&^EnterGetEvents
	}
	return f.real.enter(fd, toSubmit, minComplete, flags, arg, argSize)
}

func (f *faultKernel) register(fd int, op RegisterOp, arg unsafe.Pointer, nrArgs uint32) (int, syscall.Errno) {
	return f.real.register(fd, op, arg, nrArgs)
}

func (f *faultKernel) mmap(fd int, offset int64, length uintptr) (unsafe.Pointer, syscall.Errno) {
	f.mmaps++
	if f.mmaps == f.failMmapAt {
		return nil, unix.ENOMEM
	}
	p, e := f.real.mmap(fd, offset, length)
	if e == 0 {
		f.live++
	}
	return p, e
}

func (f *faultKernel) munmap(addr unsafe.Pointer, length uintptr) syscall.Errno {
	e := f.real.munmap(addr, length)
	if e == 0 {
		f.live--
	}
	return e
}

// lockThread keeps the benchmark or test on its OS thread until it ends.
func lockThread(tb testing.TB) {
	runtime.LockOSThread()
	tb.Cleanup(runtime.UnlockOSThread)
}

package sqpoll

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/debug"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/zokio/zokio/poller"
	"github.com/zokio/zokio/uring"
)

// TestNeedWakeupStress submits while SQ threads sleep, again and again: every round
// first waits, in the kernel, until the thread has gone to sleep (SQRingNeedWakeup),
// then submits a burst that only a wakeup can deliver. Nothing may be lost or stall,
// with one thread per ring and with one thread shared by two rings (which sleeps only
// when both are idle, and must be woken through either).
func TestNeedWakeupStress(t *testing.T) {
	requireSQPoll(t, true)
	rounds := 300
	if testing.Short() {
		rounds = 60
	}
	for _, mode := range []Mode{PerRing, Shared} {
		t.Run(mode.String(), func(t *testing.T) {
			cfg := Config{Mode: mode, Idle: time.Millisecond}
			a := newDriver(t, cfg, nil, -1)
			b := newDriver(t, cfg, a, -1)
			rng := rand.New(rand.NewPCG(7, uint64(mode)))
			slept := 0
			for i := range rounds {
				d := []*uring.Driver{a, b}[i%2]
				if rng.IntN(4) != 0 { // three rounds in four start from a sleeping thread
					waitAsleep(t, d)
					slept++
				}
				runNOPs(t, d, 1+rng.IntN(24), 8)
			}
			woke := a.Ring().Stats().SQPollWakeups + b.Ring().Stats().SQPollWakeups
			if woke < uint64(slept) {
				t.Fatalf("%d rounds began with the thread asleep but only %d wakeups", slept, woke)
			}
			t.Logf("%d rounds, %d from sleep, %d wakeups, %d enters", rounds, slept, woke,
				a.Stats().Enters+b.Stats().Enters)
		})
	}
}

// waitAsleep waits until d's SQ thread sleeps. The flag has no event of its own: wait
// in the kernel on the idle ring in short bounded slices, as uring's own test does.
func waitAsleep(t *testing.T, d *uring.Driver) {
	t.Helper()
	end := time.Now().Add(deadline)
	for d.Ring().SQFlags()&uring.SQRingNeedWakeup == 0 {
		if time.Now().After(end) {
			t.Fatal("the SQ thread never went to sleep")
		}
		if _, err := d.Wait(2 * time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
}

// TestOwnershipUnderGC runs real reads, writes, vectored I/O, sendmsg/recvmsg and
// timeouts through SQPOLL rings while the garbage collector runs flat out. Each op and
// its buffers are referenced only by the driver once submitted; the SQ thread reads
// the SQEs, and the iovecs, msghdrs and timespecs they point to, after Submit and
// Wait(0) have returned. Every byte is checked: had anything been collected and
// reused, the kernel would have read or written someone else's memory.
func TestOwnershipUnderGC(t *testing.T) {
	requireSQPoll(t, true)
	defer debug.SetGCPercent(debug.SetGCPercent(1))
	stop := churn()
	defer stop()
	rounds := 40
	if testing.Short() {
		rounds = 10
	}
	for _, mode := range []Mode{PerRing, Shared} {
		t.Run(mode.String(), func(t *testing.T) {
			cfg := Config{Mode: mode, Idle: 2 * time.Millisecond}
			first := newDriver(t, cfg, nil, -1)
			d := newDriver(t, cfg, first, -1)
			for _, drv := range []*uring.Driver{first, d} {
				f := newIOFixture(t)
				for r := range rounds {
					f.round(t, drv, uint64(r)+uint64(mode)<<32)
				}
			}
		})
	}
}

// churn allocates and drops memory and forces collections until stopped, so that
// anything the driver failed to keep alive is freed and overwritten quickly.
func churn() (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var keep [][]byte
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			default:
			}
			b := make([]byte, 64+i%4096)
			for j := range b {
				b[j] = 0xEE
			}
			keep = append(keep, b)
			if len(keep) > 256 {
				keep = keep[:0]
				runtime.GC()
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// ioFixture is a file and a datagram socket pair for one driver's rounds.
type ioFixture struct {
	file *os.File
	sock [2]int
}

func newIOFixture(t *testing.T) *ioFixture {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "sqpoll")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	sp, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(sp[0]); unix.Close(sp[1]) })
	return &ioFixture{file: f, sock: [2]int{sp[0], sp[1]}}
}

// result is what a Done callback records; the test keeps these, never the ops.
type result struct {
	n     int
	res   int32
	check func() error // verifies data the kernel wrote, from inside the callback
}

const chunk = 4096

// round writes seeded chunks (plain and vectored), sends seeded datagrams, arms
// timeouts and a receive that must time out, then reads everything back and checks
// it. Ops are built by submit helpers whose locals die at return.
func (f *ioFixture) round(t *testing.T, d *uring.Driver, seed uint64) {
	t.Helper()
	var results []*result
	add := func() *result { r := &result{}; results = append(results, r); return r }
	fd := int(f.file.Fd())

	// Phase 1: writes, sends, timers.
	for i := range 8 {
		submitWrite(t, d, fd, int64(i)*chunk, pattern(seed, i, chunk), add())
	}
	submitWritev(t, d, fd, 8*chunk, [][]byte{pattern(seed, 8, 1000), pattern(seed, 9, 3096)}, add())
	for i := range 4 {
		submitSendmsg(t, d, f.sock[0], [][]byte{pattern(seed, 20+i, 100), pattern(seed, 30+i, 200)}, add())
	}
	for i := range 4 {
		submitTimeout(t, d, time.Duration(1+i)*time.Millisecond, add())
	}
	submitRecvTimeout(t, d, f.sock[1], add()) // nothing to receive yet on sock[1]... see below
	settle(t, d, results)
	for i, r := range results {
		if r.n != 1 {
			t.Fatalf("op %d: %d completions", i, r.n)
		}
	}
	check := func(i int, want int32) {
		t.Helper()
		if results[i].res != want {
			t.Fatalf("seed %d op %d: res %d, want %d", seed, i, results[i].res, want)
		}
	}
	for i := range 8 {
		check(i, chunk)
	}
	check(8, chunk)
	for i := range 4 {
		check(9+i, 300)
	}
	for i := range 4 {
		check(13+i, -int32(syscall.ETIME))
	}
	// The timed receive raced the datagrams: it either took the first one (300 bytes)
	// or timed out because the sends had not arrived; both are correct.
	if r := results[17].res; r != 300 && r != -int32(syscall.ETIME) {
		t.Fatalf("timed recvmsg: res %d", r)
	}
	datagrams := 4
	if results[17].res == 300 {
		datagrams = 3
	}

	// Phase 2: read everything back through the ring and check every byte.
	results = results[:0]
	for i := range 8 {
		submitRead(t, d, fd, int64(i)*chunk, pattern(seed, i, chunk), add())
	}
	submitReadv(t, d, fd, 8*chunk, [][]byte{pattern(seed, 8, 1000), pattern(seed, 9, 3096)}, add())
	for range datagrams {
		submitRecvmsg(t, d, f.sock[1], seed, add())
	}
	settle(t, d, results)
	for i, r := range results {
		if r.n != 1 || r.res < 0 {
			t.Fatalf("seed %d read-back op %d: %d completions, res %d", seed, i, r.n, r.res)
		}
		if r.check != nil {
			if err := r.check(); err != nil {
				t.Fatalf("seed %d read-back op %d: %v", seed, i, err)
			}
		}
	}
	// And the file itself, read without the ring.
	got := make([]byte, 9*chunk)
	if _, err := f.file.ReadAt(got, 0); err != nil {
		t.Fatal(err)
	}
	var want []byte
	for i := range 8 {
		want = append(want, pattern(seed, i, chunk)...)
	}
	want = append(append(want, pattern(seed, 8, 1000)...), pattern(seed, 9, 3096)...)
	if !bytes.Equal(got, want) {
		t.Fatalf("seed %d: the file does not hold what was written", seed)
	}
}

// pattern is n seeded bytes: a header naming the seed and index, then a stream that
// differs for every (seed, i).
func pattern(seed uint64, i, n int) []byte {
	b := make([]byte, n)
	s := rand.New(rand.NewPCG(seed, uint64(i)))
	for j := range b {
		b[j] = byte(s.Uint32())
	}
	if n >= 12 {
		binary.LittleEndian.PutUint64(b, seed)
		binary.LittleEndian.PutUint32(b[8:], uint32(i))
	}
	return b
}

func submit(t *testing.T, d *uring.Driver, op *poller.Op, r *result) {
	t.Helper()
	op.Done = func(op *poller.Op) { r.n++; r.res = op.Res }
	if err := d.Submit(op); err != nil {
		t.Fatalf("Submit(%v): %v", op.Code, err)
	}
}

func submitWrite(t *testing.T, d *uring.Driver, fd int, off int64, data []byte, r *result) {
	submit(t, d, &poller.Op{Code: poller.OpWrite, Fd: fd, Offset: off, Buf: data}, r)
}

func submitWritev(t *testing.T, d *uring.Driver, fd int, off int64, bufs [][]byte, r *result) {
	submit(t, d, &poller.Op{Code: poller.OpWritev, Fd: fd, Offset: off, Bufs: bufs}, r)
}

func submitSendmsg(t *testing.T, d *uring.Driver, fd int, bufs [][]byte, r *result) {
	submit(t, d, &poller.Op{Code: poller.OpSendmsg, Fd: fd, Bufs: bufs}, r)
}

func submitTimeout(t *testing.T, d *uring.Driver, dur time.Duration, r *result) {
	submit(t, d, &poller.Op{Code: poller.OpTimeout, Timeout: dur}, r)
}

// submitRecvTimeout arms a receive bounded by a linked timeout (a timespec the kernel
// reads when it arms the timer).
func submitRecvTimeout(t *testing.T, d *uring.Driver, fd int, r *result) {
	buf := make([]byte, 512)
	submit(t, d, &poller.Op{Code: poller.OpRecvmsg, Fd: fd, Bufs: [][]byte{buf}, Timeout: 3 * time.Millisecond}, r)
}

// submitRead reads into a fresh buffer and checks it against want in the callback.
func submitRead(t *testing.T, d *uring.Driver, fd int, off int64, want []byte, r *result) {
	buf := make([]byte, len(want))
	r.check = func() error { return same(buf, want) }
	submit(t, d, &poller.Op{Code: poller.OpRead, Fd: fd, Offset: off, Buf: buf}, r)
}

func submitReadv(t *testing.T, d *uring.Driver, fd int, off int64, want [][]byte, r *result) {
	bufs := make([][]byte, len(want))
	for i := range want {
		bufs[i] = make([]byte, len(want[i]))
	}
	r.check = func() error {
		for i := range bufs {
			if err := same(bufs[i], want[i]); err != nil {
				return fmt.Errorf("iovec %d: %w", i, err)
			}
		}
		return nil
	}
	submit(t, d, &poller.Op{Code: poller.OpReadv, Fd: fd, Offset: off, Bufs: bufs}, r)
}

// submitRecvmsg receives one datagram into two iovecs and checks that it is one the
// round sent: 100 bytes of pattern(seed, 20+k) then 200 of pattern(seed, 30+k).
func submitRecvmsg(t *testing.T, d *uring.Driver, fd int, seed uint64, r *result) {
	a, b := make([]byte, 100), make([]byte, 200)
	r.check = func() error {
		k := int(binary.LittleEndian.Uint32(a[8:])) - 20
		if k < 0 || k > 3 {
			return fmt.Errorf("datagram header %x", a[:12])
		}
		if err := same(a, pattern(seed, 20+k, 100)); err != nil {
			return err
		}
		return same(b, pattern(seed, 30+k, 200))
	}
	submit(t, d, &poller.Op{Code: poller.OpRecvmsg, Fd: fd, Bufs: [][]byte{a, b}}, r)
}

func same(got, want []byte) error {
	if !bytes.Equal(got, want) {
		return fmt.Errorf("data differs: crc %08x, want %08x", crc32.ChecksumIEEE(got), crc32.ChecksumIEEE(want))
	}
	return nil
}

// settle flushes, collects garbage while the SQ thread picks the SQEs up, then waits
// for every op's completion.
func settle(t *testing.T, d *uring.Driver, rs []*result) {
	t.Helper()
	if _, err := d.Wait(0); err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	waitFor(t, d, func() bool {
		for _, r := range rs {
			if r.n == 0 {
				return false
			}
		}
		return true
	})
}

package uring

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// nopRoundTrip submits one NOP and reaps it.
func nopRoundTrip(t *testing.T, r *Ring, ud uint64) {
	t.Helper()
	s := sqe(t, r)
	s.PrepNop()
	s.SetUserData(ud)
	wantRes(t, reapOne(t, r, ud), 0)
}

// nopErr is nopRoundTrip for goroutines other than the test's, which must
// not call t.Fatal.
func nopErr(r *Ring, ud uint64) error {
	s := r.NextSQE()
	if s == nil {
		return errors.New("SQ full")
	}
	s.PrepNop()
	s.SetUserData(ud)
	if _, err := r.SubmitAndWait(1, testTimeout); err != nil {
		return err
	}
	var c [1]CQE
	if r.PeekCQEs(c[:]) != 1 || c[0].UserData != ud || c[0].Res != 0 {
		return fmt.Errorf("NOP %d: CQE %+v", ud, c[0])
	}
	return nil
}

// TestSQPollSubmitWithoutEnter checks that, while the SQ thread is awake,
// Submit hands SQEs over through shared memory alone.
func TestSQPollSubmitWithoutEnter(t *testing.T) {
	fk := newFaultKernel(1)
	r := newRing(t, Config{Entries: 8, Flags: SetupSQPoll, SQThreadIdle: 2 * time.Second, kernel: fk})
	// A new SQ thread sleeps until its first wakeup; from then on it spins
	// for SQThreadIdle after each SQE.
	nopRoundTrip(t, r, 1000)
	for i := range 100 {
		s := sqe(t, r)
		s.PrepNop()
		s.SetUserData(uint64(i))
		before, wakeups := fk.enters, r.Stats().SQPollWakeups
		if n, err := r.Submit(); n != 1 || err != nil {
			t.Fatalf("Submit = %d, %v", n, err)
		}
		if fk.enters != before || r.Stats().SQPollWakeups != wakeups {
			t.Fatalf("submission %d entered the kernel (flags %#x)", i, r.SQFlags())
		}
		wantRes(t, reapOne(t, r, uint64(i)), 0)
	}
}

// TestSQPollNeedWakeup lets the SQ thread fall asleep, then submits: Submit
// must see SQRingNeedWakeup and wake it.
func TestSQPollNeedWakeup(t *testing.T) {
	r := newRing(t, Config{Entries: 8, Flags: SetupSQPoll, SQThreadIdle: time.Millisecond})
	nopRoundTrip(t, r, 1)
	// The flag has no event to wait on: wait for it in the kernel, in
	// short bounded slices, on the idle ring itself.
	deadline := time.Now().Add(testTimeout)
	for r.SQFlags()&SQRingNeedWakeup == 0 {
		if time.Now().After(deadline) {
			t.Fatal("SQ thread never went to sleep")
		}
		if _, err := r.SubmitAndWait(1, 5*time.Millisecond); err != unix.ETIME {
			t.Fatalf("idle wait: %v", err)
		}
	}
	wakeups := r.Stats().SQPollWakeups
	nopRoundTrip(t, r, 2)
	// At least one wake: the submission's. The reap may wake the thread once more, if it
	// fell asleep again (after its 1 ms idle) before the completion was waited for.
	if r.Stats().SQPollWakeups < wakeups+1 {
		t.Fatalf("wakeups %d -> %d: the submission did not wake the sleeping SQ thread", wakeups, r.Stats().SQPollWakeups)
	}
}

// TestSQPollWaitSQSpace pushes 50 NOPs through a 2-entry SQ of an SQPOLL
// ring, blocking in WaitSQSpace whenever the SQ is full.
func TestSQPollWaitSQSpace(t *testing.T) {
	const total = 50
	r := newRing(t, Config{Entries: 2, Flags: SetupSQPoll, SQThreadIdle: 10 * time.Millisecond})
	seen := make(map[uint64]bool)
	collect := func(cqes []CQE) {
		for _, c := range cqes {
			if seen[c.UserData] || c.Res != 0 {
				t.Fatalf("bad or duplicate CQE %+v", c)
			}
			seen[c.UserData] = true
		}
	}
	dst := make([]CQE, 8)
	waits := 0
	for next := 0; next < total; {
		s := r.NextSQE()
		if s == nil {
			waits++
			if err := r.WaitSQSpace(); err != nil {
				t.Fatalf("WaitSQSpace: %v", err)
			}
			collect(dst[:r.PeekCQEs(dst)])
			continue
		}
		s.PrepNop()
		s.SetUserData(uint64(next))
		next++
	}
	collect(reap(t, r, total-len(seen)))
	if len(seen) != total || waits == 0 {
		t.Fatalf("%d of %d CQEs after %d waits for space", len(seen), total, waits)
	}
}

// TestSingleIssuerDeferTaskrun uses a SINGLE_ISSUER|DEFER_TASKRUN ring from
// its own locked thread, and checks that another thread gets EEXIST.
func TestSingleIssuerDeferTaskrun(t *testing.T) {
	checkLeaks(t)
	errc := make(chan error)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		errc <- deferTaskrunOwner()
	}()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

// deferTaskrunOwner is the owning thread's side of
// TestSingleIssuerDeferTaskrun.
func deferTaskrunOwner() error {
	r, err := New(Config{Entries: 8, Flags: SetupSingleIssuer | SetupDeferTaskrun})
	if err != nil {
		return err
	}
	defer r.Close()
	if r.Flags()&SetupTaskrunFlag == 0 {
		return fmt.Errorf("flags %#x: New did not add TASKRUN_FLAG", r.Flags())
	}
	if err := nopErr(r, 1); err != nil {
		return err
	}
	intruder := make(chan error)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		_, err := r.SubmitAndWait(1, 50*time.Millisecond)
		intruder <- err
	}()
	if err := <-intruder; !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("wait from another thread: %v, want EEXIST", err)
	}
	if err := nopErr(r, 2); err != nil {
		return err
	}
	// Deferred completions surface through PeekCQEs, which sees TASKRUN.
	r.NextSQE().PrepNop()
	if _, err := r.Submit(); err != nil {
		return err
	}
	dst := make([]CQE, 1)
	if r.PeekCQEs(dst) != 1 {
		return fmt.Errorf("PeekCQEs after Submit on DEFER_TASKRUN found nothing (SQ flags %#x)", r.SQFlags())
	}
	return nil
}

func TestSingleIssuerSubmitFromOtherThread(t *testing.T) {
	checkLeaks(t)
	errc := make(chan error)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		errc <- singleIssuerOwner()
	}()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

func singleIssuerOwner() error {
	r, err := New(Config{Entries: 8, Flags: SetupSingleIssuer})
	if err != nil {
		return err
	}
	defer r.Close()
	if err := nopErr(r, 1); err != nil {
		return err
	}
	res := make(chan error)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		r.NextSQE().PrepNop()
		_, err := r.Submit()
		res <- err
	}()
	if err := <-res; !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("submit from another thread: %v, want EEXIST", err)
	}
	// The owner submits the NOP the intruder published.
	_, err = r.SubmitAndWait(1, testTimeout)
	return err
}

func TestRDisabledEnable(t *testing.T) {
	r := newRing(t, Config{Entries: 8, Flags: SetupRDisabled})
	s := sqe(t, r)
	s.PrepNop()
	s.SetUserData(1)
	if _, err := r.Submit(); !errors.Is(err, unix.EBADFD) {
		t.Fatalf("Submit on a disabled ring: %v, want EBADFD", err)
	}
	if err := r.Enable(); err != nil {
		t.Fatalf("Enable: %v", err)
	}
	// The NOP published before Enable goes with this submit.
	wantRes(t, reapOne(t, r, 1), 0)
	if err := r.Enable(); !errors.Is(err, unix.EBADFD) {
		t.Fatalf("second Enable: %v, want EBADFD", err)
	}
}

// sqThread reads the SQ thread's id from the ring's fdinfo.
func sqThread(t *testing.T, r *Ring) string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/self/fdinfo/%d", r.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "SqThread:"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("no SqThread in fdinfo:\n%s", b)
	return ""
}

func TestAttachWQ(t *testing.T) {
	a := newRing(t, Config{Entries: 8, Flags: SetupSQPoll, SQThreadIdle: 10 * time.Millisecond})
	b := newRing(t, Config{Entries: 8, Flags: SetupSQPoll, SQThreadIdle: 10 * time.Millisecond, AttachWQ: a.Fd()})
	if b.Flags()&SetupAttachWQ == 0 {
		t.Fatalf("flags %#x lack ATTACH_WQ", b.Flags())
	}
	nopRoundTrip(t, a, 1)
	nopRoundTrip(t, b, 2)
	if ta, tb := sqThread(t, a), sqThread(t, b); ta != tb || ta == "-1" {
		t.Fatalf("SQ threads %s and %s: not shared", ta, tb)
	}
}

// TestEINTRRetried injects EINTR into enter: waits resume, nothing is
// submitted twice.
func TestEINTRRetried(t *testing.T) {
	fk := newFaultKernel(1)
	r := newRing(t, Config{Entries: 8, kernel: fk})
	fk.enterFaults = []enterFault{{errno: unix.EINTR}, {errno: unix.EINTR}}
	s := sqe(t, r)
	s.PrepNop()
	s.SetUserData(7)
	n, err := r.SubmitAndWait(1, testTimeout)
	if n != 1 || err != nil {
		t.Fatalf("SubmitAndWait = %d, %v", n, err)
	}
	if st := r.Stats(); st.Interrupts != 2 || st.Submitted != 1 {
		t.Fatalf("stats %+v", st)
	}
	wantRes(t, reapOne(t, r, 7), 0)
	noMoreCQEs(t, r)
	// Submit retries too.
	fk.enterFaults = []enterFault{{errno: unix.EINTR}}
	sqe(t, r).PrepNop()
	if n, err := r.Submit(); n != 1 || err != nil {
		t.Fatalf("Submit = %d, %v", n, err)
	}
	reap(t, r, 1)
}

// TestEINTRStorm injects EINTR at random (seeded) into 2,000 batches and
// checks that every NOP completes exactly once.
func TestEINTRStorm(t *testing.T) {
	fk := newFaultKernel(42)
	fk.eintrRate = 0.3
	r := newRing(t, Config{Entries: 16, kernel: fk})
	seen := make(map[uint64]bool)
	dst := make([]CQE, 16)
	ud := uint64(0)
	for range 2000 {
		for range 4 {
			s := sqe(t, r)
			s.PrepNop()
			s.SetUserData(ud)
			ud++
		}
		if n, err := r.SubmitAndWait(4, testTimeout); n != 4 || err != nil {
			t.Fatalf("SubmitAndWait = %d, %v", n, err)
		}
		n := r.PeekCQEs(dst)
		for _, c := range dst[:n] {
			if seen[c.UserData] {
				t.Fatalf("duplicate CQE %+v", c)
			}
			seen[c.UserData] = true
		}
	}
	if len(seen) != int(ud) || r.Stats().Interrupts != uint64(fk.injected) || fk.injected == 0 {
		t.Fatalf("%d of %d CQEs; %d interrupts counted, %d injected", len(seen), ud, r.Stats().Interrupts, fk.injected)
	}
}

// TestEINTRRealSignal interrupts a real wait with a storm of signals sent to
// the waiting thread.
func TestEINTRRealSignal(t *testing.T) {
	checkLeaks(t)
	tid := make(chan int, 1)
	res := make(chan error)
	var st Stats
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		res <- signalledWait(tid, &st)
	}()
	tick := time.NewTicker(200 * time.Microsecond)
	defer tick.Stop()
	id := -1
	for {
		select {
		case id = <-tid:
			continue
		case err := <-res:
			if err != nil {
				t.Fatalf("wait under signals: %v", err)
			}
			if st.Interrupts == 0 {
				t.Fatal("no EINTR seen: the storm missed the wait")
			}
			t.Logf("stats %+v", st)
			return
		case <-tick.C:
			if id > 0 {
				unix.Tgkill(unix.Getpid(), id, unix.SIGURG)
			}
		}
	}
}

// signalledWait waits 200ms for a timeout on its own locked thread.
func signalledWait(tid chan<- int, st *Stats) error {
	r, err := New(Config{Entries: 8})
	if err != nil {
		return err
	}
	defer r.Close()
	ts := NewTimespec(200 * time.Millisecond)
	r.NextSQE().PrepTimeout(&ts, 0, 0)
	tid <- unix.Gettid()
	if _, err := r.SubmitAndWait(1, testTimeout); err != nil {
		return err
	}
	var c [1]CQE
	if r.PeekCQEs(c[:]) != 1 || c[0].Res != errnoRes(unix.ETIME) {
		return fmt.Errorf("CQE %+v", c[0])
	}
	runtime.KeepAlive(&ts)
	*st = r.Stats()
	return nil
}

// TestShortSubmit has the kernel take fewer SQEs than offered: the rest go
// with the next call, none twice.
func TestShortSubmit(t *testing.T) {
	fk := newFaultKernel(1)
	r := newRing(t, Config{Entries: 8, kernel: fk})
	for i := range 5 {
		s := sqe(t, r)
		s.PrepNop()
		s.SetUserData(uint64(i))
	}
	fk.enterFaults = []enterFault{{maxSubmit: 2}}
	if n, err := r.Submit(); n != 2 || err != nil {
		t.Fatalf("short Submit = %d, %v", n, err)
	}
	if r.Pending() != 3 {
		t.Fatalf("Pending = %d, want 3", r.Pending())
	}
	fk.enterFaults = []enterFault{{maxSubmit: 1}}
	n, err := r.SubmitAndWait(5, testTimeout)
	if n != 3 || err != nil {
		t.Fatalf("SubmitAndWait after a short submit = %d, %v", n, err)
	}
	byUserData(t, reap(t, r, 5))
	noMoreCQEs(t, r)
}

// TestSubmitErrorsPassThrough checks that resource errors reach the caller
// as bare errnos and leave the SQEs queued.
func TestSubmitErrorsPassThrough(t *testing.T) {
	fk := newFaultKernel(1)
	r := newRing(t, Config{Entries: 8, kernel: fk})
	sqe(t, r).PrepNop()
	for _, e := range []error{unix.EAGAIN, unix.EBUSY, unix.ENOMEM} {
		fk.enterFaults = []enterFault{{errno: e.(unix.Errno)}}
		if n, err := r.Submit(); n != 0 || err != e {
			t.Fatalf("Submit with %v injected = %d, %v", e, n, err)
		}
		fk.enterFaults = []enterFault{{errno: e.(unix.Errno)}}
		if n, err := r.SubmitAndWait(1, testTimeout); n != 0 || err != e {
			t.Fatalf("SubmitAndWait with %v injected = %d, %v", e, n, err)
		}
	}
	if r.Pending() != 1 {
		t.Fatalf("Pending = %d after failed submits", r.Pending())
	}
	reap(t, r, 1)
}

// TestRegisteredRingFd enters through a registered ring index from a
// locked thread.
func TestRegisteredRingFd(t *testing.T) {
	checkLeaks(t)
	errc := make(chan error)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		errc <- registeredRingOwner()
	}()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

func registeredRingOwner() error {
	r, err := New(Config{Entries: 8})
	if err != nil {
		return err
	}
	defer r.Close()
	if err := r.RegisterRingFd(); err != nil {
		return err
	}
	if err := r.RegisterRingFd(); !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("second RegisterRingFd: %v", err)
	}
	if err := nopErr(r, 1); err != nil {
		return err
	}
	if _, err := r.Probe(); err != nil {
		return fmt.Errorf("Probe via the registered index: %v", err)
	}
	return r.Close()
}

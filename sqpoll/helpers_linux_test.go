package sqpoll

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/zokio/zokio/poller"
	"github.com/zokio/zokio/uring"
)

// deadline bounds every wait in these tests: a lost submission fails the test instead
// of hanging the run.
const deadline = 10 * time.Second

// requireSQPoll skips when this host refuses SQPOLL, naming the reason.
func requireSQPoll(t *testing.T, shared bool) {
	t.Helper()
	if _, ok := sandbox.Mode(); ok {
		t.Skip("runs in the parent only")
	}
	r := Probe()
	if r.Err != nil {
		t.Skipf("SQPOLL refused here: %v", r.Err)
	}
	if shared && r.AttachErr != nil {
		t.Skipf("ATTACH_WQ refused here: %v", r.AttachErr)
	}
}

// newDriver creates a driver for one loop as the runtime will: a base configuration,
// then c.Apply with the first ring and the SQ CPU. It closes the driver at cleanup.
func newDriver(t *testing.T, c Config, first *uring.Driver, cpu int) *uring.Driver {
	t.Helper()
	dc := uring.DriverConfig{Entries: 64}
	c.Apply(&dc, first, cpu)
	d, err := uring.NewDriver(dc)
	if err != nil {
		t.Fatalf("NewDriver(%+v): %v", dc, err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// sqThreads returns this process's SQ threads by TID. Each is a task of this process
// (Threads reads /proc/self/task) named after the thread that created its ring.
func sqThreads(t *testing.T) map[int]Thread {
	t.Helper()
	ths, err := Threads()
	if err != nil {
		t.Fatal(err)
	}
	out := map[int]Thread{}
	for _, th := range ths {
		if th.SQ {
			if _, err := strconv.Atoi(strings.TrimPrefix(th.Name, "iou-sqp-")); err != nil {
				t.Fatalf("SQ thread %+v is not named iou-sqp-TID", th)
			}
			out[th.TID] = th
		}
	}
	return out
}

// tasks returns the IDs of every thread of this process. A test takes them before it
// creates rings, so that it can tell its own SQ threads from earlier ones: an SQ thread
// that has not run yet still carries its creator's name, so comparing SQ threads
// alone would miss a thread that names itself later.
func tasks(t *testing.T) map[int]bool {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	out := map[int]bool{}
	for _, e := range ents {
		tid, _ := strconv.Atoi(e.Name())
		out[tid] = true
	}
	return out
}

// newThreads returns the SQ threads that are not in before.
func newThreads(t *testing.T, before map[int]bool) []Thread {
	t.Helper()
	var out []Thread
	for tid, th := range sqThreads(t) {
		if !before[tid] {
			out = append(out, th)
		}
	}
	return out
}

// waitGone waits until the given threads have exited. A ring's teardown, and with it
// its SQ thread's exit, runs in a kernel work queue after close returns, so the exit
// is an event to wait for: a pidfd for the thread (PIDFD_THREAD, Linux 6.9) becomes
// readable when it ends. Older kernels get a bounded poll of /proc.
func waitGone(t *testing.T, ths []Thread) {
	t.Helper()
	for _, th := range ths {
		fd, err := unix.PidfdOpen(th.TID, unix.O_EXCL) // O_EXCL is PIDFD_THREAD
		if errors.Is(err, unix.ESRCH) {
			continue // already gone
		}
		if err == nil {
			pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
			n, perr := unix.Poll(pfd, int(deadline/time.Millisecond))
			unix.Close(fd)
			if perr != nil || n != 1 {
				t.Fatalf("SQ thread %d still alive after %v (%v)", th.TID, deadline, perr)
			}
			continue
		}
		end := time.Now().Add(deadline)
		for alive(th.TID) {
			if time.Now().After(end) {
				t.Fatalf("SQ thread %d still alive after %v", th.TID, deadline)
			}
			// No event to wait on without PIDFD_THREAD: look again shortly.
			time.Sleep(time.Millisecond)
		}
	}
}

func alive(tid int) bool {
	b, err := os.ReadFile("/proc/self/task/" + strconv.Itoa(tid) + "/comm")
	return err == nil && strings.HasPrefix(string(b), "iou-sqp-")
}

// runNOPs submits n NOPs on d, batch at a time, and waits for all of them; each must
// complete exactly once.
func runNOPs(t *testing.T, d *uring.Driver, n, batch int) {
	t.Helper()
	ops := make([]poller.Op, batch)
	counts := make([]int, batch)
	for done := 0; done < n; {
		k := min(batch, n-done)
		for i := range k {
			counts[i] = 0
			ops[i] = poller.Op{Code: poller.OpNop, Done: func(op *poller.Op) { counts[i]++ }}
			if err := d.Submit(&ops[i]); err != nil {
				t.Fatalf("Submit NOP: %v", err)
			}
		}
		waitFor(t, d, func() bool {
			for i := range k {
				if counts[i] == 0 {
					return false
				}
			}
			return true
		})
		for i := range k {
			if counts[i] != 1 || ops[i].Res != 0 {
				t.Fatalf("NOP %d: %d completions, res %d", done+i, counts[i], ops[i].Res)
			}
		}
		done += k
	}
}

// waitFor calls d.Wait until cond holds, failing after deadline.
func waitFor(t *testing.T, d *uring.Driver, cond func() bool) {
	t.Helper()
	end := time.Now().Add(deadline)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("no completion within %v (SQ flags %#x)", deadline, d.Ring().SQFlags())
		}
		if _, err := d.Wait(50 * time.Millisecond); err != nil {
			t.Fatalf("Wait: %v", err)
		}
	}
}

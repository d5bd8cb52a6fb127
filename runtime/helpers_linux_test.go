package runtime

import (
	"os"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

func threadID() int { return unix.Gettid() }

// currentCPU returns the CPU the calling thread runs on.
func currentCPU() int {
	var cpu, node uint32
	if _, _, e := unix.Syscall(unix.SYS_GETCPU, uintptr(unsafe.Pointer(&cpu)), uintptr(unsafe.Pointer(&node)), 0); e != 0 {
		return -1
	}
	return int(cpu)
}

func loopThread(t *testing.T, l *Loop) int {
	t.Helper()
	if l.tid == 0 {
		t.Fatalf("loop %d recorded no thread", l.ID())
	}
	return l.tid
}

// resources is what a runtime must give back: descriptors, io_uring mappings, and the
// loops' locked threads (watched through thread pidfds, which become readable when the
// thread ends).
type resources struct {
	fds     map[string]string // descriptor number → what it refers to
	rings   int
	threads []int // pidfds of the loops' threads, opened by watchThreads
}

// openFds lists the process's descriptors and what each refers to.
func openFds(t *testing.T) map[string]string {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	fds := make(map[string]string, len(ents))
	for _, e := range ents {
		target, _ := os.Readlink("/proc/self/fd/" + e.Name())
		fds[e.Name()] = target
	}
	return fds
}

func snapshot(t *testing.T) *resources {
	t.Helper()
	fds := openFds(t)
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	return &resources{fds: fds, rings: strings.Count(string(maps), "io_uring")}
}

// watchThreads opens a pidfd on each loop's thread while it runs.
func (r *resources) watchThreads(t *testing.T, rt *Runtime) {
	t.Helper()
	for _, l := range rt.Loops() {
		if loopThread(t, l) == os.Getpid() {
			// The loop runs on the process's main thread, which Go parks rather than
			// ends when a locked goroutine exits on it (it cannot end the main
			// thread). Not a leak: the process has that thread anyway.
			continue
		}
		fd, err := unix.PidfdOpen(loopThread(t, l), unix.PIDFD_THREAD)
		if err != nil {
			t.Logf("cannot watch loop threads (pidfd_open: %v); thread check skipped", err)
			return
		}
		r.threads = append(r.threads, fd)
	}
}

// check compares with the state before New (the pidfds excluded), and waits for every
// loop's locked thread to end (docs/RELIABILITY.md C8): a loop's goroutine exits locked, so
// Go ends its thread.
func (r *resources) check(t *testing.T, rt *Runtime) {
	t.Helper()
	for i, fd := range r.threads {
		p := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(p, int(testDeadline.Milliseconds()))
		if err != nil || n != 1 {
			t.Errorf("loop %d's thread did not end after Close (poll: %d, %v)", i, n, err)
		}
		unix.Close(fd)
	}
	now := snapshot(t)
	var leaked []string
	for fd, target := range now.fds {
		if _, ok := r.fds[fd]; ok || strings.HasPrefix(target, "/proc/") {
			// Descriptors on procfs files are passing reads by other threads (these
			// checks read there; so, we suspect, does the race detector's runtime).
			// A runtime keeps none open.
			continue
		}
		leaked = append(leaked, fd+" → "+target)
	}
	if len(leaked) > 0 {
		t.Errorf("descriptor leak: %d before New, %d after Close; new: %s", len(r.fds), len(now.fds), strings.Join(leaked, ", "))
	}
	if now.rings > r.rings {
		t.Errorf("io_uring mapping leak: %d before New, %d after Close", r.rings, now.rings)
	}
}

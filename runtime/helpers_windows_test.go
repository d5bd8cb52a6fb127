package runtime

import (
	"syscall"
	"testing"

	"golang.org/x/sys/windows"

	"github.com/zokio/zokio/internal/testkit"
)

// mainThread is the process's main thread: package initialization runs on it, with
// the main goroutine locked there.
var mainThread = threadID()

func threadID() int { return int(windows.GetCurrentThreadId()) }

var procGetCurrentProcessorNumber = windows.NewLazySystemDLL("kernel32.dll").NewProc("GetCurrentProcessorNumber")

// currentCPU returns the CPU the calling thread runs on (GetCurrentProcessorNumber,
// within the process's processor group), or -1.
func currentCPU() int {
	if procGetCurrentProcessorNumber.Find() != nil {
		return -1
	}
	r, _, _ := syscall.SyscallN(procGetCurrentProcessorNumber.Addr())
	return int(uint32(r))
}

func loopThread(t *testing.T, l *Loop) int {
	t.Helper()
	if l.tid == 0 {
		t.Fatalf("loop %d recorded no thread", l.ID())
	}
	return l.tid
}

// resources is what a runtime must give back on Windows: sockets and files (as
// testkit.FDCount counts them: the whole handle count moves with Wine's and Go's own
// events and threads), and the loops' locked threads, watched through thread handles
// that are signalled when the thread ends.
type resources struct {
	handles int
	threads []windows.Handle
}

func snapshot(t *testing.T) *resources {
	t.Helper()
	return &resources{handles: testkit.FDCount(t)}
}

// watchThreads opens a handle on each loop's thread while it runs.
func (r *resources) watchThreads(t *testing.T, rt *Runtime) {
	t.Helper()
	for _, l := range rt.Loops() {
		if loopThread(t, l) == mainThread {
			// The process's main thread, which Go parks rather than ends when a locked
			// goroutine exits on it. Not a leak: the process has that thread anyway.
			continue
		}
		h, err := windows.OpenThread(windows.SYNCHRONIZE, false, uint32(loopThread(t, l)))
		if err != nil {
			t.Logf("cannot watch loop threads (OpenThread: %v); thread check skipped", err)
			return
		}
		r.threads = append(r.threads, h)
	}
}

// check compares with the state before New and waits for every loop's locked thread
// to end (RELIABILITY.md C8): a loop's goroutine exits locked, so Go ends its thread.
func (r *resources) check(t *testing.T, rt *Runtime) {
	t.Helper()
	for i, h := range r.threads {
		ev, err := windows.WaitForSingleObject(h, uint32(testDeadline.Milliseconds()))
		if err != nil || ev != windows.WAIT_OBJECT_0 {
			t.Errorf("loop %d's thread did not end after Close (wait: %#x, %v)", i, ev, err)
		}
		windows.CloseHandle(h)
	}
	if now := testkit.FDCount(t); now > r.handles {
		t.Errorf("handle leak: %d sockets and files before New, %d after Close", r.handles, now)
	}
}

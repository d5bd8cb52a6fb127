package sqpoll

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A thread that exits while Threads reads it is skipped, not an error; any other
// failure reading /proc is reported.
func TestIgnoreGone(t *testing.T) {
	_, err := os.ReadFile("/proc/self/task/0/comm") // tid 0 never exists
	if err == nil || ignoreGone(err) != nil {
		t.Fatalf("reading a vanished task: %v, ignoreGone gave %v; want it ignored", err, ignoreGone(err))
	}
	if ignoreGone(fmt.Errorf("read: %w", syscall.ESRCH)) != nil || ignoreGone(fs.ErrNotExist) != nil {
		t.Fatal("ESRCH or ErrNotExist not ignored")
	}
	if err := ignoreGone(syscall.EACCES); !errors.Is(err, syscall.EACCES) {
		t.Fatalf("ignoreGone(EACCES) = %v, want it kept", err)
	}
	if _, ok, err := readThread("0"); ok || err != nil {
		t.Fatalf("readThread of a task that does not exist: ok=%v err=%v, want skipped", ok, err)
	}
}

// cpuTime falls back to stat's utime+stime where schedstat is missing (kernels without
// CONFIG_SCHEDSTATS/SCHED_INFO). The directory holds this thread's real stat, copied:
// the figure must agree with schedstat's within the USER_HZ granularity and the time
// between the reads, and a truncated stat is an error, not a zero.
func TestCPUTimeStatFallback(t *testing.T) {
	runtime.LockOSThread() // both reads must see the same thread
	defer runtime.UnlockOSThread()
	self := "/proc/thread-self/"
	stat, err := os.ReadFile(self + "stat")
	if err != nil {
		t.Skipf("no /proc/thread-self/stat: %v", err)
	}
	dir := t.TempDir() + "/"
	if err := os.WriteFile(filepath.Join(dir, "stat"), stat, 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := cpuTime(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want, err := cpuTime(self); err == nil {
		// schedstat (ns) is at least stat's ticks, give or take a tick or so of rounding.
		if got > want+50*time.Millisecond {
			t.Fatalf("stat fallback says %v, schedstat %v", got, want)
		}
	}
	s := string(stat)
	short := s[:strings.LastIndexByte(s, ')')+1] + " S 1 2 3"
	if err := os.WriteFile(filepath.Join(dir, "stat"), []byte(short), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := cpuTime(dir); err == nil || !strings.Contains(err.Error(), "short") {
		t.Fatalf("cpuTime of a truncated stat: %v, want a short-stat error", err)
	}
	if _, err := cpuTime(t.TempDir() + "/"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("cpuTime without stat: %v, want ErrNotExist", err)
	}
}

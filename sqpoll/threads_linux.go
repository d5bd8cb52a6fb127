package sqpoll

import (
	"errors"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/zokio/zokio/numa"
)

// Thread is one of the kernel threads io_uring runs inside this process.
type Thread struct {
	// TID is the thread's ID.
	TID int `json:"tid"`
	// Name is its comm: "iou-sqp-TID" for an SQ thread, "iou-wrk-TID" for an io-wq
	// worker (blocking file I/O, and work SQPOLL punts), where TID is the thread that
	// created the ring (a loop's thread).
	Name string `json:"name"`
	// SQ reports an SQ thread.
	SQ bool `json:"sq"`
	// CPUs is the thread's affinity (Cpus_allowed_list).
	CPUs numa.CPUList `json:"cpus"`
	// CPUTime is the CPU time it has used: from schedstat, in nanoseconds, where the
	// kernel keeps it, else from stat's utime+stime in 10 ms ticks.
	CPUTime time.Duration `json:"cpu_time"`
}

// Threads lists io_uring's kernel threads in this process, from /proc/self/task: one
// SQ thread per PerRing ring, one per Shared runtime, and the io-wq workers. The CPU
// time of SQ threads is part of what an op costs under SQPOLL; benchmarks read it
// here. Threads that exit while they are listed are left out.
func Threads() ([]Thread, error) {
	ents, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return nil, err
	}
	var out []Thread
	for _, e := range ents {
		th, ok, err := readThread(e.Name())
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, th)
		}
	}
	return out, nil
}

// readThread reads one task; ok is false for other threads and for one that is gone.
func readThread(tid string) (Thread, bool, error) {
	dir := "/proc/self/task/" + tid + "/"
	comm, err := os.ReadFile(dir + "comm")
	if err != nil {
		return Thread{}, false, ignoreGone(err)
	}
	name := strings.TrimSpace(string(comm))
	if !strings.HasPrefix(name, "iou-sqp-") && !strings.HasPrefix(name, "iou-wrk-") {
		return Thread{}, false, nil
	}
	th := Thread{Name: name, SQ: strings.HasPrefix(name, "iou-sqp-")}
	th.TID, _ = strconv.Atoi(tid)
	status, err := os.ReadFile(dir + "status")
	if err != nil {
		return Thread{}, false, ignoreGone(err)
	}
	for line := range strings.Lines(string(status)) {
		if v, ok := strings.CutPrefix(line, "Cpus_allowed_list:"); ok {
			if th.CPUs, err = numa.ParseCPUList(v); err != nil {
				return Thread{}, false, err
			}
		}
	}
	th.CPUTime, err = cpuTime(dir)
	if err != nil {
		return Thread{}, false, ignoreGone(err)
	}
	return th, true, nil
}

// cpuTime reads a task's CPU time: schedstat's first field (ns on CPU) where present,
// else stat's utime+stime (USER_HZ is 100 on every Linux architecture Go supports).
func cpuTime(dir string) (time.Duration, error) {
	if b, err := os.ReadFile(dir + "schedstat"); err == nil {
		if f := strings.Fields(string(b)); len(f) > 0 {
			if ns, err := strconv.ParseInt(f[0], 10, 64); err == nil {
				return time.Duration(ns), nil
			}
		}
	}
	b, err := os.ReadFile(dir + "stat")
	if err != nil {
		return 0, err
	}
	// The comm field may hold spaces and parentheses: fields count from the last ')'.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0, errors.New("sqpoll: short " + dir + "stat")
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64) // field 14, utime
	st, _ := strconv.ParseInt(f[12], 10, 64) // field 15, stime
	return time.Duration(ut+st) * 10 * time.Millisecond, nil
}

// ignoreGone turns "the thread exited meanwhile" into no error.
func ignoreGone(err error) error {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESRCH) {
		return nil
	}
	return err
}

package main

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// cpuSnap is a process's CPU time at one moment: each live thread's time on CPU
// from /proc/<pid>/task/<tid>/schedstat (nanoseconds), and the process's
// utime+stime from /proc/<pid>/stat (clock ticks, but including threads that
// have exited).
type cpuSnap struct {
	tasks map[int]int64
	sw    map[int]int64 // times each thread was switched in (schedstat's third field)
	ticks int64
}

// cpuWindow is a process's CPU time between two snapshots.
type cpuWindow struct {
	// CPUNs is the time on CPU of the process's threads over the window: threads
	// alive at both ends by difference, threads born inside it in full. A thread
	// that exited inside the window is missing (TasksExited counts them).
	CPUNs       int64 `json:"cpu_ns"`
	TicksNs     int64 `json:"ticks_ns"` // utime+stime delta, at clock-tick resolution, as a cross-check
	Tasks       int   `json:"tasks"`    // threads at the end of the window
	TasksExited int   `json:"tasks_exited"`
	// Switches is how often the threads were switched onto a CPU over the window
	// (schedstat's timeslice count): the context switches the process paid.
	Switches int64 `json:"switches"`
}

// clockTick is USER_HZ, the unit of /proc/<pid>/stat's times: 100 per second on
// every Linux architecture Go supports (it is fixed by the kernel ABI).
const clockTick = 10_000_000

func readCPU(pid int) (cpuSnap, error) {
	if pid == 0 {
		return cpuSnap{}, nil
	}
	dir := fmt.Sprintf("/proc/%d/task", pid)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return cpuSnap{}, err
	}
	s := cpuSnap{tasks: make(map[int]int64, len(ents)), sw: make(map[int]int64, len(ents))}
	for _, e := range ents {
		tid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(dir + "/" + e.Name() + "/schedstat")
		if err != nil {
			continue // the thread exited meanwhile
		}
		f := strings.Fields(string(b))
		if len(f) < 1 {
			continue
		}
		ns, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return cpuSnap{}, fmt.Errorf("%s/%d/schedstat: %q", dir, tid, b)
		}
		s.tasks[tid] = ns
		if len(f) >= 3 {
			s.sw[tid], _ = strconv.ParseInt(f[2], 10, 64)
		}
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return cpuSnap{}, err
	}
	// Fields after the command name, which is in parentheses and may hold spaces:
	// state is field 3, utime field 14, stime field 15.
	rest := stat[bytes.LastIndexByte(stat, ')')+1:]
	f := strings.Fields(string(rest))
	if len(f) < 13 {
		return cpuSnap{}, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return cpuSnap{}, fmt.Errorf("/proc/%d/stat: bad utime/stime", pid)
	}
	s.ticks = ut + st
	return s, nil
}

func (s cpuSnap) since(prev cpuSnap) cpuWindow {
	w := cpuWindow{Tasks: len(s.tasks), TicksNs: (s.ticks - prev.ticks) * clockTick}
	for tid, ns := range s.tasks {
		w.CPUNs += ns - prev.tasks[tid]
		w.Switches += s.sw[tid] - prev.sw[tid]
	}
	for tid := range prev.tasks {
		if _, ok := s.tasks[tid]; !ok {
			w.TasksExited++
		}
	}
	return w
}

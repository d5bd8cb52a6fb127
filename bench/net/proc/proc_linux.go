package proc

import (
	"os"
	"strconv"
	"strings"
)

// CPU returns the time pid's threads have run, in nanoseconds (0 for pid 0). Threads
// that exited are missing: the servers measured keep theirs.
func CPU(pid int) int64 { return schedstat(pid, 0) }

// Switches returns how often pid's threads were switched onto a CPU (schedstat's
// timeslice count): the context switches the process paid, exited threads missing.
func Switches(pid int) int64 { return schedstat(pid, 2) }

// schedstat sums field i of /proc/pid/task/*/schedstat.
func schedstat(pid, i int) int64 {
	if pid <= 0 {
		return 0
	}
	dir := "/proc/" + strconv.Itoa(pid) + "/task"
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	var sum int64
	for _, e := range ents {
		b, err := os.ReadFile(dir + "/" + e.Name() + "/schedstat")
		if err != nil {
			continue
		}
		f := strings.Fields(string(b))
		if len(f) > i {
			n, _ := strconv.ParseInt(f[i], 10, 64)
			sum += n
		}
	}
	return sum
}

// RSS returns pid's resident set size in bytes (VmRSS).
func RSS(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(v)
			if len(f) > 0 {
				n, _ := strconv.ParseInt(f[0], 10, 64)
				return n << 10
			}
		}
	}
	return 0
}

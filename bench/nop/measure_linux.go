package main

import (
	"fmt"
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// workload is what every contender runs in one repetition.
type workload struct {
	entries uint32 // SQ entries of the ring (the CQ gets the kernel default, twice that)
	batch   uint32
	ops     uint64 // timed NOPs, a multiple of batch
	warmup  uint64 // untimed NOPs first, a multiple of batch
	cpu     int    // CPU to pin to, or -1
}

// runGo runs one Go contender on a fresh OS thread of its own, pinned to
// w.cpu when that is not -1, and measures the timed part.
//
// The goroutine locks its thread and exits without unlocking it, so the Go
// runtime ends the thread: a thread whose CPU mask was changed never goes
// back to the scheduler's pool, and every sample starts on a thread with no
// history.
func runGo(newLoop func(entries, batch uint32) (loop, error), w workload) (sample, error) {
	type result struct {
		s   sample
		err error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		s, err := measureGo(newLoop, w)
		done <- result{s, err}
	}()
	r := <-done
	return r.s, r.err
}

func measureGo(newLoop func(entries, batch uint32) (loop, error), w workload) (sample, error) {
	if w.cpu >= 0 {
		if err := pinThread(w.cpu); err != nil {
			return sample{}, err
		}
	}
	l, err := newLoop(w.entries, w.batch)
	if err != nil {
		return sample{}, err
	}
	defer l.close()
	if _, err := l.rounds(w.warmup); err != nil {
		return sample{}, err
	}
	runtime.GC() // nothing left over from setup gets collected in the timed part

	var m0, m1 runtime.MemStats
	var u0, u1 unix.Rusage
	runtime.ReadMemStats(&m0)
	if err := unix.Getrusage(unix.RUSAGE_THREAD, &u0); err != nil {
		return sample{}, err
	}
	t0 := time.Now()
	sum, err := l.rounds(w.ops)
	wall := time.Since(t0)
	if err2 := unix.Getrusage(unix.RUSAGE_THREAD, &u1); err2 != nil && err == nil {
		err = err2
	}
	runtime.ReadMemStats(&m1)
	if err != nil {
		return sample{}, err
	}
	// The timed rounds carried user_data warmup .. warmup+ops-1.
	if want := seqSum(w.warmup, w.ops); sum != want {
		return sample{}, fmt.Errorf("user_data checksum %d, want %d: a CQE was lost or duplicated", sum, want)
	}
	return sample{
		Ops:     w.ops,
		WallNs:  wall.Nanoseconds(),
		UserNs:  tvNs(u1.Utime) - tvNs(u0.Utime),
		SysNs:   tvNs(u1.Stime) - tvNs(u0.Stime),
		VCSw:    u1.Nvcsw - u0.Nvcsw,
		IVCSw:   u1.Nivcsw - u0.Nivcsw,
		Mallocs: int64(m1.Mallocs - m0.Mallocs),
	}, nil
}

// seqSum is first + (first+1) + ... + (first+n-1).
func seqSum(first, n uint64) uint64 {
	if n == 0 {
		return 0
	}
	last := first + n - 1
	a, b := first+last, n
	if a%2 == 0 {
		a /= 2
	} else {
		b /= 2
	}
	return a * b
}

func tvNs(tv unix.Timeval) int64 { return tv.Nano() }

// pinThread pins the calling OS thread, which the caller has locked, to cpu.
func pinThread(cpu int) error {
	var set unix.CPUSet
	set.Set(cpu)
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		return fmt.Errorf("pinning to CPU %d: %w", cpu, err)
	}
	return nil
}

// resolveCPU turns the -cpu flag into a CPU number, or -1 for no pinning.
// "auto" picks the last CPU this process may run on (on a 2-core machine,
// the one the shell and the go command are less likely to be using).
func resolveCPU(flag string) (int, error) {
	if flag == "" || flag == "-1" {
		return -1, nil
	}
	var allowed unix.CPUSet
	if err := unix.SchedGetaffinity(0, &allowed); err != nil {
		return -1, fmt.Errorf("reading the CPU mask: %w", err)
	}
	if flag == "auto" {
		for cpu := len(allowed)*64 - 1; cpu >= 0; cpu-- {
			if allowed.IsSet(cpu) {
				return cpu, nil
			}
		}
		return -1, fmt.Errorf("empty CPU mask")
	}
	var cpu int
	if _, err := fmt.Sscanf(flag, "%d", &cpu); err != nil || cpu < 0 {
		return -1, fmt.Errorf("-cpu=%q: want a CPU number, auto, or -1", flag)
	}
	if !allowed.IsSet(cpu) {
		return -1, fmt.Errorf("-cpu=%d: not in this process's CPU mask", cpu)
	}
	return cpu, nil
}

package runtime

import (
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/zokio/zokio/runtime/driver"
	"github.com/zokio/zokio/uring"
)

// pinThread binds the calling OS thread to cpu. The caller has locked its goroutine to
// the thread and never unlocks it afterwards (STYLE.md rule 12).
func pinThread(cpu int) error {
	var set unix.CPUSet
	set.Set(cpu)
	return unix.SchedSetaffinity(0, &set)
}

func gettid() int { return unix.Gettid() }

// affinityCPUs lists the CPUs this process may run on.
func affinityCPUs() ([]int, error) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return nil, fmt.Errorf("zokio/runtime: sched_getaffinity: %w", err)
	}
	var cpus []int
	for cpu := 0; cpu < len(set)*64; cpu++ {
		if set.IsSet(cpu) {
			cpus = append(cpus, cpu)
		}
	}
	return cpus, nil
}

// setDriverConfig fills the per-loop driver configuration. A loop is the only thread
// that touches its ring, so rings are SINGLE_ISSUER with DEFER_TASKRUN (completions run
// when the loop enters, batched), unless SQPOLL is asked for, which excludes it.
func setDriverConfig(c *driver.Config, l *Loop) {
	o := &l.rt.opts
	c.Uring = uring.DriverConfig{Entries: o.RingEntries, Flags: uring.SetupSingleIssuer | uring.SetupDeferTaskrun}
	if o.SQPoll {
		c.Uring.Flags = uring.SetupSQPoll
		c.Uring.SQThreadIdle = 0
		if l.cpu >= 0 {
			c.Uring.Flags |= uring.SetupSQAff
			c.Uring.SQThreadCPU = l.cpu
		}
	}
}

package runtime

import (
	"sync/atomic"

	"github.com/zokio/zokio/poller"
)

// LoopStats are a loop's counters since it started. They are published at the end of
// every tick, so a reader sees the state as of the loop's latest tick, without stopping
// it. The struct encodes to JSON as is: to serve it with expvar,
//
//	expvar.Publish("zokio", expvar.Func(func() any { return rt.Stats() }))
type LoopStats struct {
	Loop         int    `json:"loop"`
	CPU          int    `json:"cpu"`
	Driver       string `json:"driver"`
	Ticks        uint64 `json:"ticks"`         // turns of the loop
	Sleeps       uint64 `json:"sleeps"`        // ticks that blocked in the kernel
	TasksRun     uint64 `json:"tasks_run"`     // tasks run (spawned, posted, stolen)
	Steals       uint64 `json:"steals"`        // successful steals from other loops
	Stolen       uint64 `json:"stolen"`        // tasks taken by those steals
	ThiefWakes   uint64 `json:"thief_wakes"`   // times this loop was woken to steal
	TimersFired  uint64 `json:"timers_fired"`  // timer callbacks run
	OpsSubmitted uint64 `json:"ops_submitted"` // ops accepted by the driver
	OpsCompleted uint64 `json:"ops_completed"` // completions delivered
	KernelEnters uint64 `json:"kernel_enters"` // io_uring_enter or epoll_wait calls
	Wakeups      uint64 `json:"wakeups"`       // wakes from other goroutines consumed
	CQOverflows  uint64 `json:"cq_overflows"`  // completion-queue overflows (io_uring)
	SpinHits     uint64 `json:"spin_hits"`     // idle spins (SpinBeforePark) that found work instead of sleeping
}

// counters are the owner's plain counters; publish copies them into loopStats.
type counters struct {
	ticks, sleeps, steals, stolen, timersFired, tasksRun, opsCompleted, spinHits uint64
}

// loopStats are the published counters: written by the owner with atomic stores once
// a tick, read by anyone.
type loopStats struct {
	ticks, sleeps, tasksRun, steals, stolen, thiefWakes, timersFired atomic.Uint64
	opsSubmitted, opsCompleted, enters, wakeups, overflows, spinHits atomic.Uint64
}

// publish stores the owner's counters where readers can load them.
func (l *Loop) publish() {
	s, c := &l.stats, &l.count
	s.ticks.Store(c.ticks)
	s.sleeps.Store(c.sleeps)
	s.tasksRun.Store(c.tasksRun)
	s.steals.Store(c.steals)
	s.stolen.Store(c.stolen)
	s.timersFired.Store(c.timersFired)
	s.opsCompleted.Store(c.opsCompleted)
	s.spinHits.Store(c.spinHits)
	if r, ok := l.d.(poller.StatsReporter); ok {
		ds := r.Stats()
		s.opsSubmitted.Store(ds.Submitted)
		s.enters.Store(ds.Enters)
		s.wakeups.Store(ds.Wakeups)
		s.overflows.Store(ds.Overflows)
	}
}

// Stats returns the loop's counters as of its latest tick. Safe for concurrent use.
func (l *Loop) Stats() LoopStats {
	s := &l.stats
	return LoopStats{
		Loop: l.id, CPU: l.cpu, Driver: string(l.decision.Kind),
		Ticks: s.ticks.Load(), Sleeps: s.sleeps.Load(), TasksRun: s.tasksRun.Load(),
		Steals: s.steals.Load(), Stolen: s.stolen.Load(), ThiefWakes: s.thiefWakes.Load(),
		TimersFired: s.timersFired.Load(), OpsSubmitted: s.opsSubmitted.Load(),
		OpsCompleted: s.opsCompleted.Load(), KernelEnters: s.enters.Load(),
		Wakeups: s.wakeups.Load(), CQOverflows: s.overflows.Load(), SpinHits: s.spinHits.Load(),
	}
}

// Stats returns every loop's counters. Safe for concurrent use.
func (rt *Runtime) Stats() []LoopStats {
	out := make([]LoopStats, len(rt.loops))
	for i, l := range rt.loops {
		out[i] = l.Stats()
	}
	return out
}

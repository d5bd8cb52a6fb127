package sqpoll

import (
	"testing"
	"time"

	"github.com/zokio/zokio/numa"
	"github.com/zokio/zokio/poller"
	"github.com/zokio/zokio/poller/pollertest"
	"github.com/zokio/zokio/uring"
)

func TestApplyFields(t *testing.T) {
	base := uring.DriverConfig{Entries: 128, MaxBatch: 7, Flags: uring.SetupSingleIssuer | uring.SetupDeferTaskrun}
	first := &uring.Driver{}

	dc := base
	Config{Mode: Off}.Apply(&dc, first, 3)
	if dc.Flags != base.Flags || dc.AttachWQ != nil || dc.SQThreadPinned || dc.Entries != 128 || dc.MaxBatch != 7 {
		t.Errorf("Off: %+v", dc)
	}

	dc = base
	Config{Mode: PerRing, Idle: 5 * time.Millisecond}.Apply(&dc, first, 3)
	if dc.Flags != uring.SetupSQPoll|uring.SetupSQAff || dc.SQThreadCPU != 3 || !dc.SQThreadPinned ||
		dc.SQThreadIdle != 5*time.Millisecond || dc.AttachWQ != nil || dc.Entries != 128 {
		t.Errorf("PerRing: %+v", dc)
	}

	dc = base
	Config{Mode: PerRing, Affinity: AffinityNone}.Apply(&dc, nil, 3)
	if dc.Flags != uring.SetupSQPoll || dc.SQThreadPinned || dc.SQThreadIdle != DefaultIdle {
		t.Errorf("PerRing unpinned: %+v", dc)
	}

	dc = base
	Config{Mode: Shared}.Apply(&dc, nil, 1)
	if dc.Flags != uring.SetupSQPoll|uring.SetupSQAff || dc.SQThreadCPU != 1 || dc.AttachWQ != nil {
		t.Errorf("Shared, first ring: %+v", dc)
	}
	Config{Mode: Shared}.Apply(&dc, first, 1) // applying again replaces, never accumulates
	if dc.Flags != uring.SetupSQPoll || dc.AttachWQ != first || dc.SQThreadPinned {
		t.Errorf("Shared, attached ring: %+v", dc)
	}
	Config{Mode: Off}.Apply(&dc, first, 1)
	if dc.Flags != 0 || dc.AttachWQ != nil || dc.SQThreadIdle != 0 {
		t.Errorf("Off after Shared: %+v", dc)
	}
}

// TestModesCreateIntendedRings creates two loops' rings in each mode and checks the
// kernel's side: the setup flags, and the SQ threads that appeared in /proc/self/task
// (named iou-sqp-PID): none for Off, one per ring for PerRing, one in all for Shared.
// Closing the rings ends the threads.
func TestModesCreateIntendedRings(t *testing.T) {
	requireSQPoll(t, true)
	for _, c := range []struct {
		mode           Mode
		flags0, flags1 uring.SetupFlags // wanted in each ring's flags
		absent         uring.SetupFlags // wanted in neither
		threads        int
	}{
		{Off, 0, 0, uring.SetupSQPoll | uring.SetupAttachWQ, 0},
		{PerRing, uring.SetupSQPoll, uring.SetupSQPoll, uring.SetupAttachWQ, 2},
		{Shared, uring.SetupSQPoll, uring.SetupSQPoll | uring.SetupAttachWQ, 0, 1},
	} {
		t.Run(c.mode.String(), func(t *testing.T) {
			before := tasks(t)
			cfg := Config{Mode: c.mode, Idle: time.Millisecond}
			d0 := uring.DriverConfig{Entries: 64}
			cfg.Apply(&d0, nil, -1)
			first, err := uring.NewDriver(d0)
			if err != nil {
				t.Fatal(err)
			}
			d1 := uring.DriverConfig{Entries: 64}
			cfg.Apply(&d1, first, -1)
			second, err := uring.NewDriver(d1)
			if err != nil {
				first.Close()
				t.Fatal(err)
			}
			f0, f1 := first.Ring().Flags(), second.Ring().Flags()
			if f0&c.flags0 != c.flags0 || f1&c.flags1 != c.flags1 || (f0|f1)&c.absent != 0 {
				t.Errorf("flags %#x, %#x; want %#x, %#x and neither %#x", f0, f1, c.flags0, c.flags1, c.absent)
			}
			// An SQ thread names itself (iou-sqp-TID) and applies its CPU when it first
			// runs; once a ring's NOPs have completed, its thread has run.
			runNOPs(t, first, 200, 16)
			runNOPs(t, second, 200, 16)
			got := newThreads(t, before)
			if len(got) != c.threads {
				t.Errorf("%d new SQ threads, want %d: %+v", len(got), c.threads, got)
			}
			if c.mode != Off && first.Info().Features&poller.FeatSQPoll == 0 {
				t.Errorf("driver does not report FeatSQPoll: %v", first.Info().Features)
			}
			first.Close()
			second.Close()
			waitGone(t, got)
		})
	}
}

// TestSQThreadOnPlanCPU pins each ring's SQ thread where the numa plan says, and checks
// the thread's affinity from /proc.
func TestSQThreadOnPlanCPU(t *testing.T) {
	requireSQPoll(t, true)
	top, err := numa.Read()
	if err != nil {
		t.Fatal(err)
	}
	plan, err := top.Plan(numa.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []Mode{PerRing, Shared} {
		t.Run(mode.String(), func(t *testing.T) {
			before := tasks(t)
			cfg := Config{Mode: mode}
			var first *uring.Driver
			known := map[int]bool{}
			for _, pl := range plan.Loops {
				d := newDriver(t, cfg, first, pl.SQCPU)
				if first == nil {
					first = d
				}
				runNOPs(t, d, 1, 1) // the SQ thread has run, named and pinned itself
				th := newThreads(t, before)
				if mode == Shared && len(th) != 1 || mode == PerRing && len(th) != pl.Loop+1 {
					t.Fatalf("loop %d: %d SQ threads: %+v", pl.Loop, len(th), th)
				}
				for _, x := range th {
					if known[x.TID] {
						continue
					}
					known[x.TID] = true
					if x.CPUs.String() != numa.NewCPUList(pl.SQCPU).String() {
						t.Errorf("loop %d: SQ thread on %s, want %d", pl.Loop, x.CPUs, pl.SQCPU)
					}
				}
			}
		})
	}
	t.Run("unpinned", func(t *testing.T) {
		before := tasks(t)
		d := newDriver(t, Config{Mode: PerRing, Affinity: AffinityNone}, nil, plan.Loops[0].SQCPU)
		runNOPs(t, d, 1, 1)
		th := newThreads(t, before)
		if len(th) != 1 || th[0].CPUs.String() != top.Affinity.String() {
			t.Fatalf("unpinned SQ thread: %+v, want the process's mask %s", th, top.Affinity)
		}
	})
}

// TestConformance runs the driver conformance suite on SQPOLL rings configured by
// Apply: one per scenario in PerRing, and attached to a common first ring in Shared.
func TestConformance(t *testing.T) {
	requireSQPoll(t, true)
	t.Run("per-ring", func(t *testing.T) {
		cfg := Config{Mode: PerRing, Idle: 2 * time.Millisecond}
		pollertest.Run(t, func(t *testing.T) poller.Driver {
			dc := uring.DriverConfig{}
			cfg.Apply(&dc, nil, -1)
			d, err := uring.NewDriver(dc)
			if err != nil {
				t.Fatal(err)
			}
			return d
		})
	})
	t.Run("shared", func(t *testing.T) {
		cfg := Config{Mode: Shared, Idle: 2 * time.Millisecond}
		first := newDriver(t, cfg, nil, -1)
		pollertest.Run(t, func(t *testing.T) poller.Driver {
			dc := uring.DriverConfig{}
			cfg.Apply(&dc, first, -1)
			d, err := uring.NewDriver(dc)
			if err != nil {
				t.Fatal(err)
			}
			if d.Ring().Flags()&uring.SetupAttachWQ == 0 {
				t.Fatalf("flags %#x: not attached", d.Ring().Flags())
			}
			return d
		})
	})
}

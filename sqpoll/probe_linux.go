package sqpoll

import (
	"time"

	"github.com/zokio/zokio/uring"
)

// probeKernel probes with real rings.
func probeKernel() Report { return probe(uring.New) }

// probe creates a tiny SQPOLL ring and a second one attached to it, through create
// (uring.New, or a test's fault injector).
func probe(create func(uring.Config) (*uring.Ring, error)) Report {
	cfg := uring.Config{Entries: 2, Flags: uring.SetupSQPoll, SQThreadIdle: time.Millisecond, SQThreadCPU: -1}
	first, err := create(cfg)
	if err != nil {
		err = refusal("SQPOLL ring", err)
		return Report{Err: err, AttachErr: err}
	}
	defer first.Close()
	cfg.AttachWQ = first.Fd()
	second, err := create(cfg)
	if err != nil {
		return Report{AttachErr: refusal("SQPOLL ring attached to another (ATTACH_WQ)", err)}
	}
	second.Close()
	return Report{}
}

// Apply sets the SQPOLL fields of one loop's ring configuration for the decided mode
// (the Config Decide returned), leaving the others (sizes, batch) alone.
//
// first is the driver of the runtime's first ring in Shared mode, to which this ring
// attaches; nil for that first ring itself, and ignored in other modes. cpu is where
// this ring's SQ thread runs, the loop's numa.Placement.SQCPU (with Shared, only the
// first ring's cpu counts: the thread already exists for the others); a negative cpu,
// or AffinityNone, leaves the thread unpinned.
//
// SQPOLL rings drop SetupSingleIssuer and SetupDeferTaskrun: the kernel refuses
// DEFER_TASKRUN with SQPOLL, and the SQ thread, not the loop, issues the SQEs. With Off
// or Default, Apply clears every SQPOLL field and leaves the flags otherwise as they
// were.
func (c Config) Apply(dc *uring.DriverConfig, first *uring.Driver, cpu int) {
	dc.Flags &^= uring.SetupSQPoll | uring.SetupSQAff | uring.SetupAttachWQ
	dc.AttachWQ, dc.SQThreadIdle = nil, 0
	dc.SQThreadCPU, dc.SQThreadPinned = -1, false
	if c.Mode != PerRing && c.Mode != Shared {
		return
	}
	dc.Flags &^= uring.SetupSingleIssuer | uring.SetupDeferTaskrun
	dc.Flags |= uring.SetupSQPoll
	dc.SQThreadIdle = c.idle()
	if c.Mode == Shared && first != nil {
		dc.AttachWQ = first
		return
	}
	if c.Affinity == AffinityPlan && cpu >= 0 {
		dc.Flags |= uring.SetupSQAff
		dc.SQThreadCPU, dc.SQThreadPinned = cpu, true
	}
}

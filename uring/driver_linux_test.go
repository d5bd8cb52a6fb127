package uring

import (
	"runtime"
	"testing"

	"github.com/zokio/zokio/poller"
	"github.com/zokio/zokio/poller/pollertest"
)

// The io_uring driver runs the conformance suite in each configuration the runtime
// can ask for (docs/RELIABILITY.md, the harness).
var driverConfigs = []struct {
	name   string
	cfg    DriverConfig
	locked bool // SINGLE_ISSUER rings need their creator's OS thread
}{
	{"plain", DriverConfig{}, false},
	{"sqpoll", DriverConfig{Flags: SetupSQPoll, SQThreadIdle: 2e6}, false},
	{"single-issuer-defer-taskrun", DriverConfig{Flags: SetupSingleIssuer | SetupDeferTaskrun}, true},
	{"tiny-cq", DriverConfig{Entries: 4, CQEntries: 4, MaxBatch: 3}, false},
}

func TestDriverConformance(t *testing.T) {
	for _, c := range driverConfigs {
		t.Run(c.name, func(t *testing.T) {
			pollertest.Run(t, func(t *testing.T) poller.Driver {
				if c.locked {
					runtime.LockOSThread()
					t.Cleanup(runtime.UnlockOSThread)
				}
				d, err := NewDriver(c.cfg)
				if err != nil {
					t.Fatalf("NewDriver(%s): %v", c.name, err)
				}
				return d
			})
		})
	}
}

// TestDriverConformanceFaultyKernel runs the conformance suite on drivers whose
// io_uring_enter fails now and then the ways the kernel may: EINTR (retried, never
// reported), EBUSY and EAGAIN (the SQEs stay queued for the next Wait), and short
// submits (the rest goes out later). The driver must hide all of them from its
// caller: every scenario passes unchanged.
func TestDriverConformanceFaultyKernel(t *testing.T) {
	for _, c := range driverConfigs {
		if c.cfg.Flags&SetupSQPoll != 0 {
			continue // the SQ thread submits, not our enters
		}
		t.Run(c.name, func(t *testing.T) {
			var seed int64
			pollertest.Run(t, func(t *testing.T) poller.Driver {
				if c.locked {
					runtime.LockOSThread()
					t.Cleanup(runtime.UnlockOSThread)
				}
				seed++
				fk := newFaultKernel(seed)
				fk.eintrRate, fk.busyRate, fk.shortRate = 0.05, 0.05, 0.05
				cfg := c.cfg
				cfg.kernel = fk
				d, err := NewDriver(cfg)
				if err != nil {
					t.Fatalf("NewDriver(%s): %v", c.name, err)
				}
				t.Cleanup(func() {
					if fk.enters > 20 && fk.injected == 0 {
						t.Errorf("%d enters, no fault injected", fk.enters)
					}
				})
				return d
			})
		})
	}
}

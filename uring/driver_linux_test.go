package uring

import (
	"runtime"
	"testing"

	"github.com/zokio/zokio/poller"
	"github.com/zokio/zokio/poller/pollertest"
)

// The io_uring driver runs the conformance suite in each configuration the runtime
// can ask for (RELIABILITY.md, the harness).
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

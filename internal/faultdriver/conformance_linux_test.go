package faultdriver_test

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/zokio/zokio/internal/faultdriver"
	"github.com/zokio/zokio/poller"
	"github.com/zokio/zokio/poller/pollertest"
	"github.com/zokio/zokio/uring"
)

// inner opens the real drivers the wrapper is tested over.
var inner = []struct {
	name string
	open func(t *testing.T) poller.Driver
}{
	{"uring", func(t *testing.T) poller.Driver {
		runtime.LockOSThread()
		t.Cleanup(runtime.UnlockOSThread)
		d, err := uring.NewDriver(uring.DriverConfig{Flags: uring.SetupSingleIssuer | uring.SetupDeferTaskrun})
		if err != nil {
			t.Skipf("io_uring: %v", err)
		}
		return d
	}},
	{"epoll", func(t *testing.T) poller.Driver {
		d, err := poller.NewEpoll(poller.EpollConfig{})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}},
}

// TestConformanceDelayed runs the conformance suite over the wrapper with completions
// delayed and reordered across descriptors: the wrapper must keep the contract
// (exactly once, a stream's order, Close delivering everything), and no scenario may
// depend on an order the contract does not promise. Short counts are left out: the
// scenarios are the wrapper's caller and check the kernel's exact results.
func TestConformanceDelayed(t *testing.T) {
	for _, in := range inner {
		for seed := uint64(1); seed <= 2; seed++ {
			t.Run(fmt.Sprintf("%s/seed%d", in.name, seed), func(t *testing.T) {
				pollertest.Run(t, func(t *testing.T) poller.Driver {
					return faultdriver.New(in.open(t), faultdriver.Config{Seed: seed, Rate: 0.3, Kinds: faultdriver.Delay})
				})
			})
		}
	}
}

//go:build !linux

package runtime

import (
	"errors"
	goruntime "runtime"

	"github.com/zokio/zokio/runtime/driver"
)

var errNoPinning = errors.New("zokio/runtime: thread pinning is not supported on this platform")

// pinThread is not available here: loops run unpinned.
func pinThread(cpu int) error { return errNoPinning }

func gettid() int { return 0 }

// affinityCPUs lists 0..NumCPU-1: this platform has no affinity mask we read.
func affinityCPUs() ([]int, error) {
	cpus := make([]int, goruntime.NumCPU())
	for i := range cpus {
		cpus[i] = i
	}
	return cpus, nil
}

func setDriverConfig(c *driver.Config, l *Loop) {}

//go:build !linux

package sqpoll

import (
	"fmt"
	"runtime"
)

// probeKernel reports that SQPOLL does not exist on this system.
func probeKernel() Report {
	err := fmt.Errorf("%w: io_uring exists only on Linux, not on %s", ErrRefused, runtime.GOOS)
	return Report{Err: err, AttachErr: err}
}

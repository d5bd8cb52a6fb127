//go:build !linux

package sqpoll

import (
	"time"

	"github.com/zokio/zokio/numa"
)

// Thread is one of the kernel threads io_uring runs inside a Linux process; there are
// none on this system.
type Thread struct {
	TID     int           `json:"tid"`
	Name    string        `json:"name"`
	SQ      bool          `json:"sq"`
	CPUs    numa.CPUList  `json:"cpus"`
	CPUTime time.Duration `json:"cpu_time"`
}

// Threads returns nothing: io_uring exists only on Linux.
func Threads() ([]Thread, error) { return nil, nil }

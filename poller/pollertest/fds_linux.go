package pollertest

import (
	"os"
	"strings"
)

// openFDs counts the process's open descriptors plus its io_uring mappings, the
// resources a driver must give back: either growing is a leak.
func openFDs() int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return -1
	}
	return len(ents) + strings.Count(string(maps), "io_uring")
}

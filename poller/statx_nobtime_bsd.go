//go:build dragonfly || openbsd

package poller

import "golang.org/x/sys/unix"

// birthTime reports that these systems' stat has no creation time.
func birthTime(*unix.Stat_t) (unix.Timespec, bool) { return unix.Timespec{}, false }

//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package poller

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// ioSplice: these systems have no splice; the core refuses OpSplice before this.
func ioSplice(op *Op) (int, syscall.Errno) { return 0, unix.ENOSYS }

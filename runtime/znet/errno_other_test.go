//go:build !windows

package znet

import "syscall"

// The errnos the tests expect from the system, by what they mean.
const (
	errConnReset   = syscall.ECONNRESET
	errConnRefused = syscall.ECONNREFUSED
	errAddrInUse   = syscall.EADDRINUSE
)

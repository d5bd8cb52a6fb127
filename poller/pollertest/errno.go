package pollertest

import "syscall"

// errnoOf turns a negative Res into its error, as poller.Op.Err does.
func errnoOf(res int32) error { return syscall.Errno(-res) }

package pollertest

import "syscall"

func errnoOf(res int32) error { return syscall.Errno(-res) }

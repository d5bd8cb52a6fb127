//go:build !linux && !darwin && !dragonfly && !freebsd && !netbsd && !openbsd

package znet

import "syscall"

// directIO is false where the adapters make no direct socket calls: every Read and
// Write goes through the connection's loop.
const directIO = false

func directRecv(fd int, p []byte) (int, syscall.Errno) { return 0, eAgain }
func directSend(fd int, p []byte) (int, syscall.Errno) { return 0, eAgain }

const eAgain = syscall.EAGAIN

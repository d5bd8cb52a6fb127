//go:build !linux && !windows && !darwin && !dragonfly && !freebsd && !netbsd && !openbsd

package znet

import "github.com/zokio/zokio/poller"

// Where the package has no sockets yet, Dial refuses before these run.

func bindFd(fd int, sa *poller.Sockaddr) error { return errUnsupported }
func setBroadcast(fd int)                      {}

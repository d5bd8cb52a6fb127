//go:build darwin || netbsd || openbsd

package znet

import "golang.org/x/sys/unix"

// haveReusePort is false: SO_REUSEPORT on macOS, NetBSD and OpenBSD lets sockets
// share a port (Config.ReusePort works) but does not spread its connections over
// them, so a Server accepts on one socket and hands connections to the loops in turn
// (AcceptHandoff). A Server asked for AcceptReusePort still binds a socket per loop;
// which of them gets a connection is the kernel's choice.
const haveReusePort = false

// soReusePort is the option that makes a socket share its port.
const soReusePort = unix.SO_REUSEPORT

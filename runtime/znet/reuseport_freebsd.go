package znet

import "golang.org/x/sys/unix"

// haveReusePort: FreeBSD's SO_REUSEPORT_LB (FreeBSD 12 and later) spreads the
// connections of a port over the sockets sharing it, as Linux's SO_REUSEPORT does,
// so a Server can give every loop its own listening socket. (Plain SO_REUSEPORT
// there lets sockets share a port but sends every connection to one of them.)
const haveReusePort = true

// soReusePort is the option that makes a socket share its port.
const soReusePort = unix.SO_REUSEPORT_LB

package znet

import "golang.org/x/sys/unix"

// haveReusePort: FreeBSD's SO_REUSEPORT_LB (FreeBSD 12 and later) spreads the
// connections of a port over the sockets sharing it, as Linux's SO_REUSEPORT does,
// so a Server can give every loop its own listening socket. (Plain SO_REUSEPORT
// there lets sockets share a port but sends every connection to one of them.)
//
// Not verified on a FreeBSD kernel: where a kernel puts a socket into the port's
// balancing group at bind(2) rather than at listen(2), the first loop's socket,
// which takes the option only once bound (listenerOptions.reusePortBound), stays out
// of the group, and the other loops' sockets get the connections; none is lost.
const haveReusePort = true

// soReusePort is the option that makes a socket share its port.
const soReusePort = unix.SO_REUSEPORT_LB

package znet

import "golang.org/x/sys/unix"

// haveReusePort: Linux's SO_REUSEPORT spreads the connections of a port over the
// sockets sharing it, so a Server can give every loop its own listening socket.
const haveReusePort = true

// soReusePort is the option that makes a socket share its port.
const soReusePort = unix.SO_REUSEPORT

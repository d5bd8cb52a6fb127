package pollertest

import "golang.org/x/sys/unix"

// setInet4Len does nothing: Linux's sockaddr_in has no length byte.
func setInet4Len(*unix.RawSockaddrInet4) {}

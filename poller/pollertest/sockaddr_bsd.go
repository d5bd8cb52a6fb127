//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package pollertest

import "golang.org/x/sys/unix"

// setInet4Len sets the length byte that the BSDs' sockaddr_in starts with.
func setInet4Len(raw *unix.RawSockaddrInet4) { raw.Len = unix.SizeofSockaddrInet4 }

//go:build darwin || netbsd || openbsd

package poller

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// acceptNonblock: macOS has no accept4, and x/sys has none for NetBSD and OpenBSD, so the new descriptor is made
// close-on-exec under ForkLock (as Go's net does) and non-blocking after accept.
func acceptNonblock(fd, flags int) (int, unix.Sockaddr, error) {
	syscall.ForkLock.RLock()
	nfd, sa, err := unix.Accept(fd)
	if err == nil {
		unix.CloseOnExec(nfd)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return -1, nil, err
	}
	if err := unix.SetNonblock(nfd, true); err != nil {
		unix.Close(nfd)
		return -1, nil, err
	}
	sockInit(nfd)
	return nfd, sa, nil
}

//go:build dragonfly || freebsd

package poller

import "golang.org/x/sys/unix"

// acceptNonblock accepts with accept4: non-blocking and close-on-exec at once.
func acceptNonblock(fd, flags int) (int, unix.Sockaddr, error) {
	return unix.Accept4(fd, flags|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
}

package znet

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// macOS's part of the system layer: no SOCK_NONBLOCK or SOCK_CLOEXEC for socket(2)
// and no MSG_NOSIGNAL for send(2).

// msgNoSignal is 0: every socket has SO_NOSIGPIPE instead (newSocket here, the kqueue
// driver for accepted ones), so a send on a broken stream fails with EPIPE.
const msgNoSignal = 0

// newSocket creates a non-blocking, close-on-exec socket without SIGPIPE: socket(2),
// then fcntl, with close-on-exec set under syscall.ForkLock as Go's net does, so that
// no child started in between inherits the descriptor.
func newSocket(family, sotype int) (int, error) {
	syscall.ForkLock.RLock()
	fd, err := unix.Socket(family, sotype, 0)
	if err == nil {
		unix.CloseOnExec(fd)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return -1, os.NewSyscallError("socket", err)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return -1, os.NewSyscallError("setnonblock", err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_NOSIGPIPE, 1); err != nil {
		unix.Close(fd)
		return -1, os.NewSyscallError("setsockopt", err)
	}
	return fd, nil
}

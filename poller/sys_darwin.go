package poller

import "golang.org/x/sys/unix"

// macOS has no MSG_NOSIGNAL for send: sockets get SO_NOSIGPIPE when the core first
// sees them (sockInit), so a send on a broken connection fails with EPIPE.
const msgNoSignal = 0

// sockInit sets SO_NOSIGPIPE on a socket the core drives.
func sockInit(fd int) { _ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_NOSIGPIPE, 1) }

// fileFsync has os.File.Sync's semantics on macOS: F_FULLFSYNC, which flushes the
// drive's cache too, or fsync where the file system does not support it (SMB).
func fileFsync(fd int, datasync bool) int32 {
	_, err := unix.FcntlInt(uintptr(fd), unix.F_FULLFSYNC, 0)
	if err == unix.ENOTSUP || err == unix.EINVAL {
		err = unix.Fsync(fd)
	}
	return errRes(err)
}

//go:build unix

package znet

import (
	"os"

	"golang.org/x/sys/unix"
)

// Socket options through x/sys/unix's portable calls (setsockopt and getsockopt go
// through libc on darwin and openbsd), for the option setters of options.go.

const (
	solSocket   = unix.SOL_SOCKET
	soKeepAlive = unix.SO_KEEPALIVE
	soRcvBuf    = unix.SO_RCVBUF
	soSndBuf    = unix.SO_SNDBUF
	soType      = unix.SO_TYPE
	ipprotoTCP  = unix.IPPROTO_TCP
	tcpNoDelay  = unix.TCP_NODELAY
)

func setSockoptInt(fd, level, opt, v int) error {
	if err := unix.SetsockoptInt(fd, level, opt, v); err != nil {
		return os.NewSyscallError("setsockopt", err)
	}
	return nil
}

func getSockoptInt(fd, level, opt int) (int, error) {
	v, err := unix.GetsockoptInt(fd, level, opt)
	if err != nil {
		return 0, os.NewSyscallError("getsockopt", err)
	}
	return v, nil
}

// setLingerOpt sets SO_LINGER: sec < 0 turns it off, as net.TCPConn.SetLinger does.
func setLingerOpt(fd, sec int) error {
	l := unix.Linger{}
	if sec >= 0 {
		l.Onoff, l.Linger = 1, int32(sec)
	}
	if err := unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &l); err != nil {
		return os.NewSyscallError("setsockopt", err)
	}
	return nil
}

// dupFile returns a close-on-exec duplicate of fd as an *os.File, as the File
// methods of Go's net do: closing either leaves the other open.
func dupFile(fd int, name string) (*os.File, error) {
	nfd, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, os.NewSyscallError("fcntl", err)
	}
	return os.NewFile(uintptr(nfd), name), nil
}

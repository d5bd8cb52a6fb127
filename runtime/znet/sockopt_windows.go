package znet

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

// Socket options on Winsock, for the option setters of options.go. Windows 10 1709
// and later take the keep-alive timing as TCP_KEEPIDLE, TCP_KEEPINTVL and
// TCP_KEEPCNT, as Go's net sets it there.

const (
	solSocket    = windows.SOL_SOCKET
	soKeepAlive  = windows.SO_KEEPALIVE
	soRcvBuf     = windows.SO_RCVBUF
	soSndBuf     = windows.SO_SNDBUF
	soType       = 0x1008 // SO_TYPE
	ipprotoTCP   = windows.IPPROTO_TCP
	tcpNoDelay   = windows.TCP_NODELAY
	tcpKeepIdle  = windows.TCP_KEEPIDLE
	tcpKeepIntvl = windows.TCP_KEEPINTVL
	tcpKeepCnt   = windows.TCP_KEEPCNT
	haveKeepTune = true
)

func setSockoptInt(fd, level, opt, v int) error {
	if err := windows.SetsockoptInt(handle(fd), level, opt, v); err != nil {
		return os.NewSyscallError("setsockopt", err)
	}
	return nil
}

func getSockoptInt(fd, level, opt int) (int, error) {
	v, err := windows.GetsockoptInt(handle(fd), level, opt)
	if err != nil {
		return 0, os.NewSyscallError("getsockopt", err)
	}
	return v, nil
}

// setLingerOpt sets SO_LINGER: sec < 0 turns it off.
func setLingerOpt(fd, sec int) error {
	l := windows.Linger{}
	if sec >= 0 {
		l.Onoff, l.Linger = 1, int32(sec)
	}
	if err := windows.SetsockoptLinger(handle(fd), windows.SOL_SOCKET, windows.SO_LINGER, &l); err != nil {
		return os.NewSyscallError("setsockopt", err)
	}
	return nil
}

// dupFile: Go's net has no File for sockets on Windows either.
func dupFile(fd int, name string) (*os.File, error) {
	return nil, os.NewSyscallError("dup", errors.ErrUnsupported)
}

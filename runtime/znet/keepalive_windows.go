package znet

import (
	"errors"
	"os"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

// Keep-alive timing on Windows, as Go's net sets it: TCP_KEEPIDLE and TCP_KEEPINTVL
// where the system has them (Windows 10 1709 and later), else SIO_KEEPALIVE_VALS,
// which sets both at once (Wine 8 has only that).

// winKeepInterval is Windows' own probe interval, for SIO_KEEPALIVE_VALS when only
// the idle time was given.
const winKeepInterval = time.Second

func setKeepIdle(fd int, d time.Duration) error {
	err := setKeepTime(fd, tcpKeepIdle, d, DefaultKeepAliveIdle)
	if noProtoOpt(err) {
		return keepAliveVals(fd, d, -1)
	}
	return err
}

func setKeepTimes(fd int, idle, interval time.Duration) error {
	err := setKeepTime(fd, tcpKeepIdle, idle, DefaultKeepAliveIdle)
	if noProtoOpt(err) {
		return keepAliveVals(fd, idle, interval)
	}
	if err != nil {
		return err
	}
	return setKeepTime(fd, tcpKeepIntvl, interval, DefaultKeepAliveInterval)
}

func noProtoOpt(err error) bool { return errors.Is(err, windows.WSAENOPROTOOPT) }

// keepAliveVals sets idle time and interval with SIO_KEEPALIVE_VALS, following Go's
// net: 0 takes Go's default, a negative idle with a given interval cannot be set
// (the ioctl needs both), a negative interval takes Windows' default.
func keepAliveVals(fd int, idle, interval time.Duration) error {
	switch {
	case idle < 0 && interval >= 0:
		return os.NewSyscallError("wsaioctl", windows.WSAENOPROTOOPT)
	case idle < 0:
		return nil
	case interval < 0:
		interval = winKeepInterval
	}
	if idle == 0 {
		idle = DefaultKeepAliveIdle
	}
	if interval == 0 {
		interval = DefaultKeepAliveInterval
	}
	ka := windows.TCPKeepalive{
		OnOff:    1,
		Time:     uint32((idle + time.Millisecond - 1) / time.Millisecond),
		Interval: uint32((interval + time.Millisecond - 1) / time.Millisecond),
	}
	var ret uint32
	// SAFETY: ka and ret live on this stack for the synchronous call.
	err := windows.WSAIoctl(handle(fd), windows.SIO_KEEPALIVE_VALS, (*byte)(unsafe.Pointer(&ka)),
		uint32(unsafe.Sizeof(ka)), nil, 0, &ret, nil, 0)
	if err != nil {
		return os.NewSyscallError("wsaioctl", err)
	}
	return nil
}

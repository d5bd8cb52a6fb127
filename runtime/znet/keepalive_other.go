//go:build !windows

package znet

import "time"

// setKeepIdle sets the idle time before the first keep-alive probe (0: Go's default,
// negative: unchanged).
func setKeepIdle(fd int, d time.Duration) error {
	return setKeepTime(fd, tcpKeepIdle, d, DefaultKeepAliveIdle)
}

// setKeepTimes sets the idle time and the probe interval.
func setKeepTimes(fd int, idle, interval time.Duration) error {
	if err := setKeepIdle(fd, idle); err != nil {
		return err
	}
	return setKeepTime(fd, tcpKeepIntvl, interval, DefaultKeepAliveInterval)
}

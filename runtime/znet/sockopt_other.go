//go:build !unix && !windows

package znet

import "os"

// No sockets here: every entry point refuses before these run (sys_other.go).

const (
	solSocket, soKeepAlive, soRcvBuf, soSndBuf, soType = 0, 0, 0, 0, 0
	ipprotoTCP, tcpNoDelay                             = 0, 0
	tcpKeepIdle, tcpKeepIntvl, tcpKeepCnt              = -1, -1, -1
	haveKeepTune                                       = false
)

func setSockoptInt(fd, level, opt, v int) error     { return errUnsupported }
func getSockoptInt(fd, level, opt int) (int, error) { return 0, errUnsupported }
func setLingerOpt(fd, sec int) error                { return errUnsupported }
func dupFile(fd int, name string) (*os.File, error) { return nil, errUnsupported }

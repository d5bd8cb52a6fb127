package znet

import "golang.org/x/sys/windows"

// The errors the tests expect from Winsock, by what they mean: Go's syscall package
// keeps the Unix errnos apart from the WSA codes on Windows.
const (
	errConnReset   = windows.WSAECONNRESET
	errConnRefused = windows.WSAECONNREFUSED
	errAddrInUse   = windows.WSAEADDRINUSE
)

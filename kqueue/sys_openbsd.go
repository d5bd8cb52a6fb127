package kqueue

import "golang.org/x/sys/unix"

// OpenBSD has no EVFILT_USER: the loop is woken through a pipe.
const (
	hasUserWake = false
	evfiltUser  = 0 // unused
	noteTrigger = 0 // unused
	evReceipt   = unix.EV_RECEIPT
)

func openPipe(p *[2]int) error { return unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC) }

package kqueue

import "golang.org/x/sys/unix"

// NetBSD has no EVFILT_USER: the loop is woken through a pipe. x/sys has no
// EV_RECEIPT for it either: a refused change still comes back as an EV_ERROR event,
// since the flush's event list has room for every change, and flush's dispatch also
// passes on events that are pending then.
const (
	hasUserWake = false
	evfiltUser  = 0 // unused
	noteTrigger = 0 // unused
	evReceipt   = 0
)

func openPipe(p *[2]int) error { return unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC) }

//go:build darwin || dragonfly || freebsd

package kqueue

import "golang.org/x/sys/unix"

// macOS, FreeBSD and DragonFly wake the loop with an EVFILT_USER event.
const (
	hasUserWake = true
	evfiltUser  = unix.EVFILT_USER
	noteTrigger = unix.NOTE_TRIGGER
	evReceipt   = unix.EV_RECEIPT
)

// openPipe makes a non-blocking, close-on-exec pipe; only a test that asks for the
// pipe wake uses it here.
func openPipe(p *[2]int) error {
	if err := unix.Pipe(p[:]); err != nil {
		return err
	}
	for _, fd := range p {
		unix.CloseOnExec(fd)
		if err := unix.SetNonblock(fd, true); err != nil {
			unix.Close(p[0])
			unix.Close(p[1])
			return err
		}
	}
	return nil
}

//go:build dragonfly || freebsd || netbsd || openbsd

package poller

import "golang.org/x/sys/unix"

// The BSDs' send takes MSG_NOSIGNAL, as Linux's does.
const msgNoSignal = unix.MSG_NOSIGNAL

func sockInit(fd int) {}

// fileFsync has os.File.Sync's semantics: fsync(2), for datasync too.
func fileFsync(fd int, datasync bool) int32 { return errRes(unix.Fsync(fd)) }

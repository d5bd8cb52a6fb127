//go:build darwin || freebsd || netbsd

package poller

import "golang.org/x/sys/unix"

// birthTime returns the file's creation time, which these systems record.
func birthTime(st *unix.Stat_t) (unix.Timespec, bool) { return st.Btim, true }

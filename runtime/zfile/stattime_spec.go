//go:build darwin || freebsd || netbsd

package zfile

import "syscall"

// setStatTimes sets a Stat_t's access, modification and change times (named
// *timespec on this system).
func setStatTimes(st *syscall.Stat_t, a, m, c syscall.Timespec) {
	st.Atimespec, st.Mtimespec, st.Ctimespec = a, m, c
}

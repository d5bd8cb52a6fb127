//go:build linux || dragonfly || openbsd

package zfile

import "syscall"

// setStatTimes sets a Stat_t's access, modification and change times (named *tim on
// this system).
func setStatTimes(st *syscall.Stat_t, a, m, c syscall.Timespec) {
	st.Atim, st.Mtim, st.Ctim = a, m, c
}

package faultdriver

import "golang.org/x/sys/unix"

// kindOf looks at fd with fstat, SO_TYPE and F_GETFL.
func kindOf(fd int) fdKind {
	var st unix.Stat_t
	if fd < 0 || unix.Fstat(fd, &st) != nil {
		return fdOther
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFIFO:
		return fdStream
	case unix.S_IFSOCK:
		if t, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TYPE); err == nil && t == unix.SOCK_STREAM {
			return fdStream
		}
	case unix.S_IFREG:
		if fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0); err == nil && fl&unix.O_DIRECT == 0 {
			return fdFile
		}
	}
	return fdOther
}

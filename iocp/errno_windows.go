package iocp

import (
	"errors"
	"syscall"

	"golang.org/x/sys/windows"
)

// Results are negated errnos, as on every driver. Where the contract names an errno
// (ECANCELED for a cancelled op, ETIME for a timed-out one, EBADF for a handle that is
// closing or invalid, ENOBUFS for an empty buffer group) and where Linux and Windows
// share a meaning (a refused or reset connection, a missing file), the Windows code is
// translated to syscall's portable Errno, so that errors.Is(err, syscall.ECONNREFUSED)
// holds on every driver. Any other code is passed through as the Win32 or Winsock
// error Windows reported, the Errno that Go's own net and os packages wrap there.
var portable = map[syscall.Errno]syscall.Errno{
	windows.ERROR_OPERATION_ABORTED:   syscall.ECANCELED,
	windows.ERROR_INVALID_HANDLE:      syscall.EBADF,
	windows.WSAENOTSOCK:               syscall.ENOTSOCK,
	windows.WSAECONNREFUSED:           syscall.ECONNREFUSED,
	windows.ERROR_CONNECTION_REFUSED:  syscall.ECONNREFUSED,
	windows.ERROR_PORT_UNREACHABLE:    syscall.ECONNREFUSED,
	windows.WSAECONNRESET:             syscall.ECONNRESET,
	windows.ERROR_NETNAME_DELETED:     syscall.ECONNRESET,
	windows.WSAECONNABORTED:           syscall.ECONNABORTED,
	windows.ERROR_CONNECTION_ABORTED:  syscall.ECONNABORTED,
	windows.WSAESHUTDOWN:              syscall.EPIPE,
	windows.ERROR_BROKEN_PIPE:         syscall.EPIPE,
	windows.ERROR_NO_DATA:             syscall.EPIPE,
	windows.WSAENOTCONN:               syscall.ENOTCONN,
	windows.WSAEADDRINUSE:             syscall.EADDRINUSE,
	windows.WSAEADDRNOTAVAIL:          syscall.EADDRNOTAVAIL,
	windows.WSAETIMEDOUT:              syscall.ETIMEDOUT,
	windows.ERROR_SEM_TIMEOUT:         syscall.ETIMEDOUT,
	windows.WSAENETUNREACH:            syscall.ENETUNREACH,
	windows.ERROR_NETWORK_UNREACHABLE: syscall.ENETUNREACH,
	windows.WSAEHOSTUNREACH:           syscall.EHOSTUNREACH,
	windows.ERROR_HOST_UNREACHABLE:    syscall.EHOSTUNREACH,
	windows.WSAEINVAL:                 syscall.EINVAL,
	windows.ERROR_INVALID_PARAMETER:   syscall.EINVAL,
	windows.WSAEAFNOSUPPORT:           syscall.EAFNOSUPPORT,
	windows.WSAEOPNOTSUPP:             syscall.EOPNOTSUPP,
	windows.WSAEWOULDBLOCK:            syscall.EAGAIN,
	windows.WSAENOBUFS:                syscall.ENOBUFS,
	windows.WSAEMSGSIZE:               syscall.EMSGSIZE,
	windows.ERROR_FILE_NOT_FOUND:      syscall.ENOENT,
	windows.ERROR_PATH_NOT_FOUND:      syscall.ENOENT,
	windows.ERROR_FILE_EXISTS:         syscall.EEXIST,
	windows.ERROR_ALREADY_EXISTS:      syscall.EEXIST,
	windows.ERROR_ACCESS_DENIED:       syscall.EACCES,
	windows.ERROR_DIR_NOT_EMPTY:       syscall.ENOTEMPTY,
	windows.ERROR_DIRECTORY:           syscall.ENOTDIR,
	windows.ERROR_NOT_ENOUGH_MEMORY:   syscall.ENOMEM,
	windows.ERROR_OUTOFMEMORY:         syscall.ENOMEM,
}

// errno returns err as an Errno, portable where the table says so.
func errno(err error) syscall.Errno {
	var e syscall.Errno
	if !errors.As(err, &e) {
		if st, ok := err.(windows.NTStatus); ok {
			e = st.Errno()
		} else {
			return syscall.EINVAL
		}
	}
	if p, ok := portable[e]; ok {
		return p
	}
	return e
}

// errRes is the result for err: 0 for nil, else the negated errno.
func errRes(err error) int32 {
	if err == nil {
		return 0
	}
	return -int32(errno(err))
}

var (
	resCanceled = -int32(syscall.ECANCELED)
	resBadf     = -int32(syscall.EBADF)
	resNoBufs   = -int32(syscall.ENOBUFS)
)

package znet

import (
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/zokio/zokio/poller"
)

// Linux's part of the system layer (the shared part is sys_unix.go).

// msgNoSignal makes a send on a broken stream fail with EPIPE instead of raising
// SIGPIPE.
const msgNoSignal = unix.MSG_NOSIGNAL

// dualStack: an AF_INET6 socket with IPV6_V6ONLY off also takes IPv4 peers.
const dualStack = true

// newSocket creates a non-blocking, close-on-exec socket. Non-blocking is what the
// readiness drivers need; io_uring completes ops on such sockets the same way.
func newSocket(family, sotype int) (int, error) {
	fd, err := unix.Socket(family, sotype|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, os.NewSyscallError("socket", err)
	}
	return fd, nil
}

var somaxconn = sync.OnceValue(func() int {
	b, err := os.ReadFile("/proc/sys/net/core/somaxconn")
	if err != nil {
		return unix.SOMAXCONN
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || n <= 0 {
		return unix.SOMAXCONN
	}
	return n
})

// rawBind binds fd to sa. Bind is a set-up call, so it goes straight to the kernel.
func rawBind(fd int, sa *poller.Sockaddr) error {
	if errno := bindRaw(fd, sa); errno != 0 {
		return errno
	}
	return nil
}

// sockname and peername return a socket's local and remote addresses in raw form.
func sockname(fd int, sa *poller.Sockaddr) error {
	return getname(unix.SYS_GETSOCKNAME, fd, sa)
}

func peername(fd int, sa *poller.Sockaddr) error {
	return getname(unix.SYS_GETPEERNAME, fd, sa)
}

// The shared sockaddr layouts (sockaddr.go) are the kernel's.
var (
	_ [unix.SizeofSockaddrInet4 - sizeofSockaddrInet4]byte
	_ [sizeofSockaddrInet4 - unix.SizeofSockaddrInet4]byte
	_ [unix.SizeofSockaddrInet6 - sizeofSockaddrInet6]byte
	_ [sizeofSockaddrInet6 - unix.SizeofSockaddrInet6]byte
	_ [len(unix.RawSockaddrUnix{}.Path) - sizeofUnixPath]byte
	_ [sizeofUnixPath - len(unix.RawSockaddrUnix{}.Path)]byte
)

// bindRaw calls bind(2) with a raw sockaddr.
func bindRaw(fd int, sa *poller.Sockaddr) syscall.Errno {
	// SAFETY: sa.Raw is valid memory of sa.Len ≤ 128 bytes for the duration of the
	// call; the kernel copies it before returning.
	_, _, errno := unix.Syscall(unix.SYS_BIND, uintptr(fd), uintptr(unsafe.Pointer(&sa.Raw[0])), uintptr(sa.Len))
	return errno
}

// getname calls getsockname(2) or getpeername(2) into sa.
func getname(trap uintptr, fd int, sa *poller.Sockaddr) error {
	*sa = poller.Sockaddr{Len: uint32(len(sa.Raw))}
	// SAFETY: the kernel writes at most sa.Len bytes into sa.Raw and the new length
	// into sa.Len during the call; both live in sa, which the caller holds.
	_, _, errno := unix.RawSyscall(trap, uintptr(fd), uintptr(unsafe.Pointer(&sa.Raw[0])), uintptr(unsafe.Pointer(&sa.Len)))
	if errno != 0 {
		return errno
	}
	return nil
}

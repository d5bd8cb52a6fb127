//go:build darwin || openbsd

package poller

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The inline syscalls of the readiness core on darwin and OpenBSD, which allow system
// calls only from libc (a raw trap is unsupported on macOS; OpenBSD answers ENOSYS):
// x/sys/unix's functions, which call libc there. Where those take or return a
// unix.Sockaddr, the raw Sockaddr of the op is converted (sockaddr_bsd.go).

func ioRead(fd int, p []byte) (int, syscall.Errno) {
	n, err := unix.Read(fd, p)
	return n, errnoOf(err)
}

func ioWrite(fd int, p []byte) (int, syscall.Errno) {
	n, err := unix.Write(fd, p)
	return n, errnoOf(err)
}

// iovBufs returns the buffers iov describes.
func iovBufs(iov []unix.Iovec) [][]byte {
	bufs := make([][]byte, len(iov))
	for i, v := range iov {
		// SAFETY: each iovec was made from a live []byte of the op (fillIovecs) or of
		// a buffer group, which stay referenced until the op completes.
		bufs[i] = unsafe.Slice(v.Base, v.Len)
	}
	return bufs
}

func ioReadv(fd int, iov []unix.Iovec) (int, syscall.Errno) {
	n, err := unix.Readv(fd, iovBufs(iov))
	return n, errnoOf(err)
}

func ioWritev(fd int, iov []unix.Iovec) (int, syscall.Errno) {
	n, err := unix.Writev(fd, iovBufs(iov))
	return n, errnoOf(err)
}

func ioRecv(fd int, p []byte, flags int) (int, syscall.Errno) {
	n, _, err := unix.Recvfrom(fd, p, flags)
	return n, errnoOf(err)
}

func ioSend(fd int, p []byte, flags int) (int, syscall.Errno) {
	n, err := unix.SendmsgN(fd, p, nil, nil, flags)
	return n, errnoOf(err)
}

// msgParts returns a Msghdr's buffers and control space.
func msgParts(msg *unix.Msghdr) (bufs [][]byte, oob []byte) {
	if msg.Iov != nil {
		bufs = iovBufs(unsafe.Slice(msg.Iov, msg.Iovlen))
	}
	if msg.Control != nil {
		oob = unsafe.Slice(msg.Control, msg.Controllen)
	}
	return bufs, oob
}

func ioRecvmsg(fd int, msg *unix.Msghdr, flags int) (int, syscall.Errno) {
	bufs, oob := msgParts(msg)
	n, oobn, rflags, from, err := unix.RecvmsgBuffers(fd, bufs, oob, flags)
	if err != nil {
		return 0, errnoOf(err)
	}
	if msg.Name != nil {
		msg.Namelen = putSockaddr(unsafe.Slice(msg.Name, msg.Namelen), from)
	}
	msg.SetControllen(oobn)
	msg.Flags = int32(rflags)
	return n, 0
}

func ioSendmsg(fd int, msg *unix.Msghdr, flags int) (int, syscall.Errno) {
	bufs, oob := msgParts(msg)
	var to unix.Sockaddr
	if msg.Name != nil && msg.Namelen > 0 {
		var errno syscall.Errno
		if to, errno = sockaddrOf(unsafe.Slice(msg.Name, msg.Namelen)); errno != 0 {
			return 0, errno
		}
	}
	n, err := unix.SendmsgBuffers(fd, bufs, oob, to, flags)
	return n, errnoOf(err)
}

func ioConnect(fd int, sa *Sockaddr) syscall.Errno {
	to, errno := sockaddrOf(sa.Raw[:min(int(sa.Len), len(sa.Raw))])
	if errno != 0 {
		return errno
	}
	return errnoOf(unix.Connect(fd, to))
}

// fileRW runs readv/writev, or preadv/pwritev at off unless off is -1.
func fileRW(fd int, iov []unix.Iovec, off int64, write bool) (int, syscall.Errno) {
	bufs := iovBufs(iov)
	var n int
	var err error
	switch {
	case off == -1 && write:
		n, err = unix.Writev(fd, bufs)
	case off == -1:
		n, err = unix.Readv(fd, bufs)
	case write:
		n, err = unix.Pwritev(fd, bufs, off)
	default:
		n, err = unix.Preadv(fd, bufs, off)
	}
	return n, errnoOf(err)
}

// errnoOf returns err's errno, 0 for nil.
func errnoOf(err error) syscall.Errno {
	if err == nil {
		return 0
	}
	return toErrno(err)
}

// sockaddrOf reads a raw socket address; EAFNOSUPPORT for a family it does not know,
// EINVAL for one too short.
func sockaddrOf(raw []byte) (unix.Sockaddr, syscall.Errno) {
	if len(raw) < 2 {
		return nil, unix.EINVAL
	}
	switch raw[1] {
	case unix.AF_INET:
		var r unix.RawSockaddrInet4
		if len(raw) < int(unsafe.Sizeof(r)) {
			return nil, unix.EINVAL
		}
		copy(unsafe.Slice((*byte)(unsafe.Pointer(&r)), unsafe.Sizeof(r)), raw)
		p := (*[2]byte)(unsafe.Pointer(&r.Port))
		return &unix.SockaddrInet4{Port: int(p[0])<<8 | int(p[1]), Addr: r.Addr}, 0
	case unix.AF_INET6:
		var r unix.RawSockaddrInet6
		if len(raw) < int(unsafe.Sizeof(r)) {
			return nil, unix.EINVAL
		}
		copy(unsafe.Slice((*byte)(unsafe.Pointer(&r)), unsafe.Sizeof(r)), raw)
		p := (*[2]byte)(unsafe.Pointer(&r.Port))
		return &unix.SockaddrInet6{Port: int(p[0])<<8 | int(p[1]), ZoneId: r.Scope_id, Addr: r.Addr}, 0
	case unix.AF_UNIX:
		path := raw[2:]
		for i, c := range path {
			if c == 0 {
				path = path[:i]
				break
			}
		}
		return &unix.SockaddrUnix{Name: string(path)}, 0
	}
	return nil, unix.EAFNOSUPPORT
}

//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package poller

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// BSD and macOS versions of the readiness core's syscalls that differ from Linux; the
// per-system ones are in sys_darwin.go, sys_accept*_bsd.go, sys_preadv_*.go and
// (fileRW, shared with Linux) sys_raw.go.

// PollRdHup is the revents bit a [Backend] reports when the peer shut down its
// writing half (kqueue's EV_EOF on the read filter). These systems have no POLLRDHUP
// for poll(2); the bit is the core's own and never reaches the kernel.
const PollRdHup = 0x4000

// ioAccept accepts one connection through x/sys (accept4 where the system has it)
// and writes the peer's address into sa.
func ioAccept(fd int, sa *Sockaddr, flags int) (int, syscall.Errno) {
	nfd, from, err := acceptNonblock(fd, flags)
	if err != nil {
		return -1, toErrno(err)
	}
	if sa != nil {
		sa.Len = putSockaddr(sa.Raw[:], from)
	}
	return nfd, 0
}

// fileFallocate: these systems have no fallocate(2) with Linux's modes.
func fileFallocate(op *Op) int32 { return -int32(unix.EOPNOTSUPP) }

// fileStatx fills a Statx from fstat(2) or fstatat(2): these systems have no statx.
// AtEmptyPath with an empty Path stats Fd itself.
func fileStatx(op *Op) int32 {
	var st unix.Stat_t
	var err error
	if op.Path == "" && op.Arg&AtEmptyPath != 0 {
		err = unix.Fstat(op.Fd, &st)
	} else {
		err = unix.Fstatat(op.Fd, op.Path, &st, int(op.Arg&^AtEmptyPath)&unix.AT_SYMLINK_NOFOLLOW)
	}
	if err != nil {
		return errRes(err)
	}
	// SAFETY: Validate checked that Buf holds at least StatxSize bytes, 8-byte
	// aligned; the op owns Buf until it completes.
	x := (*Statx)(unsafe.Pointer(&op.Buf[0]))
	*x = Statx{
		Mask:    StatxBasicStats,
		Blksize: uint32(st.Blksize),
		Nlink:   uint32(st.Nlink),
		Uid:     st.Uid,
		Gid:     st.Gid,
		Mode:    uint16(st.Mode),
		Ino:     uint64(st.Ino),
		Size:    uint64(st.Size),
		Blocks:  uint64(st.Blocks),
		Atime:   statxTime(st.Atim),
		Ctime:   statxTime(st.Ctim),
		Mtime:   statxTime(st.Mtim),
	}
	x.RdevMajor, x.RdevMinor = unix.Major(uint64(st.Rdev)), unix.Minor(uint64(st.Rdev))
	x.DevMajor, x.DevMinor = unix.Major(uint64(st.Dev)), unix.Minor(uint64(st.Dev))
	return 0
}

func statxTime(ts unix.Timespec) StatxTimestamp {
	return StatxTimestamp{Sec: int64(ts.Sec), Nsec: uint32(ts.Nsec)}
}

func fileRenameat(op *Op) int32 {
	if op.Arg != 0 {
		return -int32(unix.EINVAL) // no renameat2 flags here
	}
	return errRes(unix.Renameat(op.Fd, op.Path, op.Fd2, op.Path2))
}

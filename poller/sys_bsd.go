//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package poller

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// BSD and macOS versions of the readiness core's syscalls that differ from Linux; the
// per-system ones are in sys_darwin.go, sys_accept*_bsd.go and sys_preadv_bsd.go.

// PollRdHup is the revents bit a [Backend] reports when the peer shut down its
// writing half (kqueue's EV_EOF on the read filter). These systems have no POLLRDHUP
// for poll(2); the bit is the core's own and never reaches the kernel.
const PollRdHup = 0x4000

// acceptRaw accepts one connection through x/sys (accept4 where the system has it)
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

// Statx writes the first StatxSize bytes of Linux's struct statx, filled from
// fstatat(2): these systems have no statx.
func fileStatx(op *Op) int32 {
	var st unix.Stat_t
	if err := unix.Fstatat(op.Fd, op.Path, &st, int(op.Arg)&unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return errRes(err)
	}
	// SAFETY: Validate checked that Buf holds at least StatxSize bytes, 8-byte
	// aligned; the op owns Buf until it completes.
	x := (*statx)(unsafe.Pointer(&op.Buf[0]))
	*x = statx{
		Mask:    statxBasicStats,
		Blksize: uint32(st.Blksize),
		Nlink:   uint32(st.Nlink),
		UID:     st.Uid,
		GID:     st.Gid,
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

// statx is Linux's struct statx up to its device numbers, the part fileStatx fills.
type statx struct {
	Mask      uint32
	Blksize   uint32
	Attrs     uint64
	Nlink     uint32
	UID       uint32
	GID       uint32
	Mode      uint16
	_         uint16
	Ino       uint64
	Size      uint64
	Blocks    uint64
	AttrsMask uint64
	Atime     statxTimestamp
	Btime     statxTimestamp
	Ctime     statxTimestamp
	Mtime     statxTimestamp
	RdevMajor uint32
	RdevMinor uint32
	DevMajor  uint32
	DevMinor  uint32
}

type statxTimestamp struct {
	Sec  int64
	Nsec uint32
	_    int32
}

// statxBasicStats is STATX_BASIC_STATS: every field above but the birth time.
const statxBasicStats = 0x7ff

// The layout is Linux's: the device numbers end at byte 144.
var _ [144 - unsafe.Sizeof(statx{})]byte
var _ [unsafe.Sizeof(statx{}) - 144]byte

func statxTime(ts unix.Timespec) statxTimestamp {
	return statxTimestamp{Sec: int64(ts.Sec), Nsec: uint32(ts.Nsec)}
}

func fileRenameat(op *Op) int32 {
	if op.Arg != 0 {
		return -int32(unix.EINVAL) // no renameat2 flags here
	}
	return errRes(unix.Renameat(op.Fd, op.Path, op.Fd2, op.Path2))
}

//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package poller

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// OpStatx on macOS and the BSDs, which have no statx: fstatat (fstat for an empty Path
// with AtEmptyPath), its result written into the portable Statx layout. The fields
// stat(2) has are filled and named in Mask (StatxBasicStats, plus StatxBtime where
// the system records a creation time); the rest stay zero.
func fileStatx(op *Op) int32 {
	var st unix.Stat_t
	var err error
	if op.Path == "" && op.Arg&AtEmptyPath != 0 {
		err = unix.Fstat(op.Fd, &st)
	} else {
		flags := 0
		if op.Arg&AtSymlinkNoFollow != 0 {
			flags = unix.AT_SYMLINK_NOFOLLOW
		}
		err = unix.Fstatat(op.Fd, op.Path, &st, flags)
	}
	if err != nil {
		return errRes(err)
	}
	// SAFETY: Validate checked that Buf holds at least StatxSize (the size of Statx)
	// bytes and is 8-byte aligned; the op owns Buf until it completes.
	fillStatx((*Statx)(unsafe.Pointer(&op.Buf[0])), &st)
	return 0
}

// fillStatx writes st into sx, field by field (the Stat_t field types differ per
// system; the conversions are exact for the values a kernel reports).
func fillStatx(sx *Statx, st *unix.Stat_t) {
	dev, rdev := uint64(st.Dev), uint64(st.Rdev)
	*sx = Statx{
		Mask:      StatxBasicStats,
		Blksize:   uint32(st.Blksize),
		Nlink:     uint32(st.Nlink),
		Uid:       st.Uid,
		Gid:       st.Gid,
		Mode:      uint16(st.Mode),
		Ino:       st.Ino,
		Size:      uint64(st.Size),
		Blocks:    uint64(st.Blocks),
		Atime:     statxTime(st.Atim),
		Mtime:     statxTime(st.Mtim),
		Ctime:     statxTime(st.Ctim),
		RdevMajor: unix.Major(rdev),
		RdevMinor: unix.Minor(rdev),
		DevMajor:  unix.Major(dev),
		DevMinor:  unix.Minor(dev),
	}
	if bt, ok := birthTime(st); ok {
		sx.Btime = statxTime(bt)
		sx.Mask |= StatxBtime
	}
}

func statxTime(ts unix.Timespec) StatxTimestamp {
	return StatxTimestamp{Sec: int64(ts.Sec), Nsec: uint32(ts.Nsec)}
}

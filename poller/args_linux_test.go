package poller

import (
	"reflect"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TestArgsAreLinuxValues checks the portable names whose values are Linux's on every
// system (args.go) against the kernel's constants; the per-OS names are defined from
// x/sys on Linux, so the compiler holds those.
func TestArgsAreLinuxValues(t *testing.T) {
	cases := []struct {
		name      string
		got, want int64
	}{
		{"StatxType", StatxType, unix.STATX_TYPE},
		{"StatxMode", StatxMode, unix.STATX_MODE},
		{"StatxNlink", StatxNlink, unix.STATX_NLINK},
		{"StatxUID", StatxUID, unix.STATX_UID},
		{"StatxGID", StatxGID, unix.STATX_GID},
		{"StatxAtime", StatxAtime, unix.STATX_ATIME},
		{"StatxMtime", StatxMtime, unix.STATX_MTIME},
		{"StatxCtime", StatxCtime, unix.STATX_CTIME},
		{"StatxIno", StatxIno, unix.STATX_INO},
		{"StatxFileSize", StatxFileSize, unix.STATX_SIZE},
		{"StatxBlocks", StatxBlocks, unix.STATX_BLOCKS},
		{"StatxBasicStats", StatxBasicStats, unix.STATX_BASIC_STATS},
		{"StatxBtime", StatxBtime, unix.STATX_BTIME},
		{"ModeTypeMask", ModeTypeMask, unix.S_IFMT},
		{"ModeFIFO", ModeFIFO, unix.S_IFIFO},
		{"ModeChar", ModeChar, unix.S_IFCHR},
		{"ModeDir", ModeDir, unix.S_IFDIR},
		{"ModeBlock", ModeBlock, unix.S_IFBLK},
		{"ModeRegular", ModeRegular, unix.S_IFREG},
		{"ModeSymlink", ModeSymlink, unix.S_IFLNK},
		{"ModeSocket", ModeSocket, unix.S_IFSOCK},
		{"RenameNoReplace", RenameNoReplace, unix.RENAME_NOREPLACE},
		{"RenameExchange", RenameExchange, unix.RENAME_EXCHANGE},
		{"FallocKeepSize", FallocKeepSize, unix.FALLOC_FL_KEEP_SIZE},
		{"FallocPunchHole", FallocPunchHole, unix.FALLOC_FL_PUNCH_HOLE},
		{"FallocZeroRange", FallocZeroRange, unix.FALLOC_FL_ZERO_RANGE},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("%s = %#x, the kernel's value is %#x", c.name, c.got, c.want)
		}
	}
}

// TestStatxLayout checks that Statx is struct statx field for field, so that the kernel
// (through io_uring or statx(2)) writes it directly.
func TestStatxLayout(t *testing.T) {
	if unsafe.Sizeof(Statx{}) != unsafe.Sizeof(unix.Statx_t{}) {
		t.Fatalf("Statx is %d bytes, unix.Statx_t %d", unsafe.Sizeof(Statx{}), unsafe.Sizeof(unix.Statx_t{}))
	}
	pairs := map[string]string{
		"Mask": "Mask", "Blksize": "Blksize", "Attributes": "Attributes", "Nlink": "Nlink",
		"Uid": "Uid", "Gid": "Gid", "Mode": "Mode", "Ino": "Ino", "Size": "Size",
		"Blocks": "Blocks", "AttributesMask": "Attributes_mask", "Atime": "Atime",
		"Btime": "Btime", "Ctime": "Ctime", "Mtime": "Mtime", "RdevMajor": "Rdev_major",
		"RdevMinor": "Rdev_minor", "DevMajor": "Dev_major", "DevMinor": "Dev_minor",
		"MntID": "Mnt_id", "DioMemAlign": "Dio_mem_align", "DioOffsetAlign": "Dio_offset_align",
	}
	ours, theirs := reflect.TypeOf(Statx{}), reflect.TypeOf(unix.Statx_t{})
	for mine, kernel := range pairs {
		a, ok1 := ours.FieldByName(mine)
		b, ok2 := theirs.FieldByName(kernel)
		if !ok1 || !ok2 {
			t.Fatalf("field %s/%s missing (%v, %v)", mine, kernel, ok1, ok2)
		}
		if a.Offset != b.Offset || a.Type.Size() != b.Type.Size() {
			t.Errorf("Statx.%s at %d (%d bytes), struct statx's %s at %d (%d bytes)",
				mine, a.Offset, a.Type.Size(), kernel, b.Offset, b.Type.Size())
		}
	}
	if sz := len(new(Statx).Bytes()); sz != StatxSize {
		t.Fatalf("Statx.Bytes is %d bytes, want %d", sz, StatxSize)
	}
}

package testkit

import (
	"testing"

	"golang.org/x/sys/unix"
)

// HugeBuffer returns a buffer of size bytes that costs no memory until it is touched:
// anonymous, private and mapped with MAP_NORESERVE, so untouched pages read as zero
// from the kernel's shared zero page. It lets a test hand a driver a 4 GiB buffer
// (lengths past 32 bits, counts past int32) on a machine shared with others; a test
// writes its markers into a few pages and checks the bytes that cross the wire. The
// mapping is removed when the test ends. It skips the test under -short.
func HugeBuffer(tb testing.TB, size int) []byte {
	tb.Helper()
	if testing.Short() {
		tb.Skip("a multi-GiB transfer; skipped under -short")
	}
	b, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_NORESERVE)
	if err != nil {
		tb.Skipf("mapping a %d-byte buffer: %v", size, err)
	}
	tb.Cleanup(func() {
		if err := unix.Munmap(b); err != nil {
			tb.Errorf("munmap: %v", err)
		}
	})
	return b
}

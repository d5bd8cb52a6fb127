package driver_test

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/zokio/zokio/internal/iouringblock"
)

// sandbox is the subprocess harness: a test re-runs this test binary with the mode in
// ZOKIO_TEST_SECCOMP; TestMain then installs a seccomp filter before any test runs, so
// the child sees a kernel where io_uring fails the way it does under Docker's profile
// (EPERM), on a kernel without io_uring (ENOSYS), or in a sandbox that kills the
// caller (KILL).
var sandbox = iouringblock.Child{Env: "ZOKIO_TEST_SECCOMP"}

// setupErrno calls io_uring_setup directly and returns its errno (0 on success).
func setupErrno() syscall.Errno {
	var p [120]byte
	fd, _, e := unix.Syscall(unix.SYS_IO_URING_SETUP, 2, uintptr(unsafe.Pointer(&p[0])), 0)
	if e == 0 {
		unix.Close(int(fd))
	}
	return e
}

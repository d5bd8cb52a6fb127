package sqpoll

import "github.com/zokio/zokio/internal/iouringblock"

// sandbox is the subprocess harness, as in runtime/driver: a test re-runs this test
// binary with the mode in ZOKIO_TEST_SQPOLL_SECCOMP, and TestMain installs a seccomp
// filter before any test runs, so that the child meets io_uring the way a Docker
// container does (EPERM) or a sandbox that kills the caller (KILL).
var sandbox = iouringblock.Child{Env: "ZOKIO_TEST_SQPOLL_SECCOMP"}

// prepareChild installs the sandbox when this process is a sandboxed child.
func prepareChild() { sandbox.Prepare() }

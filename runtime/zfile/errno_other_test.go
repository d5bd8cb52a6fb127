//go:build !windows

package zfile

import "syscall"

// errReadOnlyWrite is what os.File.Write says for a file opened read-only.
const errReadOnlyWrite = syscall.EBADF

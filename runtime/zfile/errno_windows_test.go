package zfile

import "golang.org/x/sys/windows"

// errReadOnlyWrite is what os.File.Write says for a file opened read-only on Windows.
const errReadOnlyWrite = windows.ERROR_ACCESS_DENIED

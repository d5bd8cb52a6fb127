//go:build !windows

package zfile

import "os"

// zeroRead stands for the call os.File.Read makes for an empty buffer: none here, where
// os returns at once.
func zeroRead(fd int) error { return nil }

// errStatClosed is what Stat on a closed File reports, as os.File.Stat does here.
var errStatClosed error = os.ErrClosed

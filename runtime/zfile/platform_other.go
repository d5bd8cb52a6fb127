//go:build !windows

package zfile

import (
	"os"

	"github.com/zokio/zokio/runtime"
)

// zeroRead stands for the call os.File.Read makes for an empty buffer: none here, where
// os returns at once.
func zeroRead(fd int) error { return nil }

// errStatClosed is what Stat on a closed File reports, as os.File.Stat does here.
var errStatClosed error = os.ErrClosed

// homeLoop picks the home loop of a file that opener opened as fd, when the caller
// named none: the descriptor spreads files over the loops.
func homeLoop(loops []*runtime.Loop, opener *runtime.Loop, fd int) *runtime.Loop {
	return loops[fd%len(loops)]
}

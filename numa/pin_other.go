//go:build !linux && !windows

package numa

import (
	"errors"
	"fmt"
	"runtime"
)

var errNoPin = fmt.Errorf("numa: thread pinning on %s: %w", runtime.GOOS, errors.ErrUnsupported)

// PinThread is not available on this system: it returns an error wrapping
// errors.ErrUnsupported, and loops run unpinned.
func PinThread(cpu int) error { return errNoPin }

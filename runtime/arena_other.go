//go:build !linux && !windows

package runtime

import (
	"errors"
	"fmt"
	goruntime "runtime"
)

// errNoArena is what NewArena reports where Zokio has no driver with arenas yet.
var errNoArena = fmt.Errorf("zokio/runtime: no arenas on %s yet: %w", goruntime.GOOS, errors.ErrUnsupported)

func mapArena(size int, bind func(mem []byte) error) ([]byte, error) { return nil, errNoArena }

func unmapArena(mem []byte) {}

func registerBufTable(l *Loop, n int) error { return errNoFixedBuffers }

func setBufSlot(l *Loop, slot uint16, mem []byte) error { return errNoFixedBuffers }

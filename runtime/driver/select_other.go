//go:build !linux && !windows && !darwin && !dragonfly && !freebsd && !netbsd && !openbsd

package driver

import (
	"errors"
	"fmt"
	"runtime"

	"github.com/zokio/zokio/poller"
)

// Config carries each driver's own configuration. On this platform no driver is built
// (only Linux, Windows, macOS and the BSDs have one), so it is empty.
type Config struct{}

// Choose reports that this platform has no driver yet.
func Choose(pref Kind) (Decision, error) {
	if _, _, err := fromEnv(pref); err != nil {
		return Decision{}, err
	}
	return Decision{}, fmt.Errorf("driver: no I/O driver for %s yet (only Linux, Windows, macOS and the BSDs have one): %w", runtime.GOOS, errors.ErrUnsupported)
}

// Open reports that this platform has no driver yet.
func Open(pref Kind, cfg Config) (poller.Driver, Decision, error) {
	dec, err := Choose(pref)
	return nil, dec, err
}

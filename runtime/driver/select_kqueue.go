//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package driver

import (
	"errors"
	"fmt"
	"runtime"

	"github.com/zokio/zokio/internal/testhook"
	"github.com/zokio/zokio/kqueue"
	"github.com/zokio/zokio/poller"
)

// Config carries each driver's own configuration; Open uses the one it chooses.
type Config struct {
	Kqueue kqueue.Config
}

// Choose decides which driver to use: kqueue, the only one on macOS and the BSDs.
// Forcing another one is an error.
func Choose(pref Kind) (Decision, error) {
	k, forced, err := fromEnv(pref)
	if err != nil {
		return Decision{}, err
	}
	switch k {
	case Auto:
		return Decision{Kind: Kqueue, Reason: "kqueue, the driver of " + runtime.GOOS}, nil
	case Kqueue:
		return Decision{Kind: Kqueue, Forced: forced, Reason: "kqueue forced by " + forcedBy(forced)}, nil
	}
	return Decision{}, fmt.Errorf("driver: %s is not available on %s: %w", k, runtime.GOOS, errors.ErrUnsupported)
}

// Open chooses a driver as Choose does and creates it.
func Open(pref Kind, cfg Config) (poller.Driver, Decision, error) {
	dec, err := Choose(pref)
	if err != nil {
		return nil, dec, err
	}
	d, err := kqueue.New(cfg.Kqueue)
	if err != nil {
		return nil, dec, err
	}
	return testhook.WrapDriver(d), dec, nil
}

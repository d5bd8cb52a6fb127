package driver

import (
	"errors"
	"fmt"

	"github.com/zokio/zokio/internal/testhook"
	"github.com/zokio/zokio/iocp"
	"github.com/zokio/zokio/poller"
)

// Config carries each driver's own configuration. The IOCP driver takes none.
type Config struct{}

// Choose decides which driver to use: on Windows, always the IOCP driver; forcing any
// other (by option or ZOKIO_DRIVER) is an error.
func Choose(pref Kind) (Decision, error) {
	k, forced, err := fromEnv(pref)
	if err != nil {
		return Decision{}, err
	}
	if k != Auto && k != IOCP {
		return Decision{}, fmt.Errorf("driver: %s is not available on windows (only iocp is): %w", k, errors.ErrUnsupported)
	}
	dec := Decision{Kind: IOCP, Forced: forced,
		Reason: "iocp: I/O completion ports are the completion engine Windows offers for sockets and files"}
	if forced != "" {
		dec.Reason = "iocp forced by " + forcedBy(forced) + "; " + dec.Reason
	}
	if v := iocp.WineVersion(); v != "" {
		dec.Reason += " (running under Wine " + v + ")"
	}
	return dec, nil
}

// Open chooses a driver as Choose does and creates it.
func Open(pref Kind, cfg Config) (poller.Driver, Decision, error) {
	dec, err := Choose(pref)
	if err != nil {
		return nil, dec, err
	}
	d, err := iocp.New()
	if err != nil {
		return nil, dec, err
	}
	return testhook.WrapDriver(d), dec, nil
}

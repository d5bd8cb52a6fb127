package poller

import (
	"errors"
	"io/fs"
	"net"
	"syscall"
)

// ErrClosed is returned by a driver after Close. errors.Is reports it as both
// net.ErrClosed and os.ErrClosed, so callers above test it the way they would the
// standard library's.
var ErrClosed error = closedError{}

type closedError struct{}

func (closedError) Error() string { return "poller: driver closed" }

func (closedError) Is(target error) bool { return target == net.ErrClosed || target == fs.ErrClosed }

// ErrInFlight is returned by Submit for an op that is already in flight.
var ErrInFlight = errors.New("poller: op already in flight")

// ErrNotInFlight is returned by Cancel for an op that is idle.
var ErrNotInFlight = errors.New("poller: op not in flight")

// ErrReentrant is returned by Wait when called from inside a Done callback.
var ErrReentrant = errors.New("poller: Wait called from a completion callback")

// InvalidOpError reports an op that no driver would accept: a bad opcode, a missing
// buffer, a flag the opcode does not take. errors.Is(err, syscall.EINVAL) holds.
type InvalidOpError struct {
	Code   Opcode
	Reason string
}

func (e *InvalidOpError) Error() string {
	return "poller: invalid " + e.Code.String() + " op: " + e.Reason
}

// Unwrap returns syscall.EINVAL.
func (e *InvalidOpError) Unwrap() error { return syscall.EINVAL }

// UnsupportedError reports an op, or a flag of it, that this driver cannot perform.
// errors.Is(err, errors.ErrUnsupported) holds.
type UnsupportedError struct {
	Driver string
	Code   Opcode
	What   string // the unsupported part, such as "FlagFixedBuffer"
}

func (e *UnsupportedError) Error() string {
	s := "poller: " + e.Driver + " driver does not support " + e.Code.String()
	if e.What != "" {
		s += " with " + e.What
	}
	return s
}

// Unwrap returns errors.ErrUnsupported.
func (e *UnsupportedError) Unwrap() error { return errors.ErrUnsupported }

// Package driver chooses and opens the I/O driver a Zokio loop runs on: on Linux,
// io_uring where the kernel offers everything the runtime needs, epoll otherwise, with
// the reason recorded; kqueue on macOS and the BSDs. The runtime and `zokio info` share this one decision, so what info prints is
// what the runtime does.
//
// The choice can be forced with an option or with the environment variable
// ZOKIO_DRIVER=uring|epoll|kqueue|iocp (the option wins). Forcing a driver the system
// does not have (io_uring where it is unavailable, kqueue on Linux outside test builds
// with the libkqueue tag) is an error, never a silent fallback. Forcing epoll never calls io_uring_setup, for
// sandboxes that kill a process which does.
package driver

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// Kind names a driver.
type Kind string

// The driver kinds. Auto lets Choose decide.
const (
	Auto   Kind = "auto"
	Uring  Kind = "uring"
	Epoll  Kind = "epoll"
	Kqueue Kind = "kqueue"
	IOCP   Kind = "iocp"
)

// EnvVar is the environment variable that forces a driver when the caller's option is
// Auto.
const EnvVar = "ZOKIO_DRIVER"

// ParseKind parses a driver name as the command line and EnvVar spell it. The empty
// string is Auto.
func ParseKind(s string) (Kind, error) {
	switch k := Kind(strings.ToLower(strings.TrimSpace(s))); k {
	case "":
		return Auto, nil
	case Auto, Uring, Epoll, Kqueue, IOCP:
		return k, nil
	}
	return "", fmt.Errorf("driver: unknown driver %q (want auto, uring, epoll, kqueue or iocp)", s)
}

// Decision is the outcome of Choose: the driver and why.
type Decision struct {
	Kind Kind // the driver chosen
	// Forced says who forced the choice: "" (automatic), "option" or "env".
	Forced string
	// Reason explains the choice in one sentence, for logs and `zokio info`.
	Reason string
	// Probed reports whether io_uring_setup was called.
	Probed bool
	// UringErr is why io_uring is unavailable, when it is; errors.Is works with the
	// syscall.Errno from setup (ENOSYS, EPERM, EACCES, ENOMEM) and with ErrUnavailable.
	UringErr error
	// Missing lists what the io_uring probe lacked: opcodes and features.
	Missing []string
}

// ErrUnavailable wraps every "io_uring cannot be used here" error, so callers can
// tell unavailability from other failures with errors.Is. It matches
// errors.ErrUnsupported too.
var ErrUnavailable = fmt.Errorf("driver: io_uring unavailable: %w", errors.ErrUnsupported)

// fromEnv resolves Auto against EnvVar.
func fromEnv(pref Kind) (Kind, string, error) {
	if pref != Auto && pref != "" {
		return pref, "option", nil
	}
	v, ok := os.LookupEnv(EnvVar)
	if !ok || v == "" {
		return Auto, "", nil
	}
	k, err := ParseKind(v)
	if err != nil {
		return "", "", fmt.Errorf("%s: %w", EnvVar, err)
	}
	if k == Auto {
		return Auto, "", nil
	}
	return k, "env", nil
}

// forcedBy names who forced a choice, for a Decision's Reason.
func forcedBy(f string) string {
	if f == "env" {
		return EnvVar
	}
	return "option"
}

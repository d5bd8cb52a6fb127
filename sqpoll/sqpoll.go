package sqpoll

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Mode is how a runtime's rings use kernel submission threads.
type Mode uint8

// The modes. Default is the zero value: Decide resolves it from EnvVar, else Off.
const (
	// Default lets the environment variable ZOKIO_SQPOLL choose, and is Off without it.
	Default Mode = iota
	// Off creates rings without an SQ thread: each flush enters the kernel.
	Off
	// PerRing gives each loop's ring its own SQ thread, on the loop's node.
	PerRing
	// Shared gives all the runtime's rings one SQ thread (IORING_SETUP_ATTACH_WQ).
	Shared
)

var modeNames = [...]string{Default: "default", Off: "off", PerRing: "per-ring", Shared: "shared"}

// String returns the mode's name as ParseMode and ZOKIO_SQPOLL spell it.
func (m Mode) String() string {
	if int(m) < len(modeNames) {
		return modeNames[m]
	}
	return fmt.Sprintf("mode(%d)", uint8(m))
}

// MarshalText returns the mode's name.
func (m Mode) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalText parses a mode's name, as ParseMode does.
func (m *Mode) UnmarshalText(b []byte) error {
	v, err := ParseMode(string(b))
	if err == nil {
		*m = v
	}
	return err
}

// ParseMode parses a mode name: "off", "per-ring" (or "perring", "per_ring", "ring",
// "on") or "shared"; case and surrounding space do not matter. The empty string and
// "default" are Default.
func ParseMode(s string) (Mode, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "default":
		return Default, nil
	case "off", "0", "no", "false":
		return Off, nil
	case "per-ring", "perring", "per_ring", "ring", "on":
		return PerRing, nil
	case "shared":
		return Shared, nil
	}
	return Default, fmt.Errorf("sqpoll: unknown mode %q (want off, per-ring or shared)", s)
}

// EnvVar is the environment variable that chooses the mode when Config.Mode is Default.
const EnvVar = "ZOKIO_SQPOLL"

// DefaultIdle is how long an SQ thread spins without work before it sleeps, when
// Config.Idle is zero. The kernel's own default is a second, which keeps a core busy
// for a second after every burst; a loop that goes idle usually stays idle longer than
// this.
//
// Under the saturated loads bench/ measures (echo at 1000 connections, O_DIRECT reads
// at depth 32) an SQ thread never idles this long, so the idle time does not show in
// those figures; it bounds what a burst costs afterwards: at most this much of a core
// spent polling an empty queue. The mode itself stays Off by default: on the 2-CPU
// machine it was measured on, SQPOLL cost 1.12–1.37× the CPU per echoed message and
// 1.75–3.6× per O_DIRECT read for at most 1.11× the throughput (bench/README.md,
// "sqpoll").
const DefaultIdle = 10 * time.Millisecond

// Affinity says where SQ threads run.
type Affinity uint8

const (
	// AffinityPlan pins each SQ thread to the CPU the caller passes to Apply: the
	// numa plan's SQCPU, a CPU on the loop's node.
	AffinityPlan Affinity = iota
	// AffinityNone leaves SQ threads unpinned, to the scheduler.
	AffinityNone
)

// Config is the SQPOLL policy of a runtime. The zero value is Default mode (Off unless
// ZOKIO_SQPOLL says otherwise) with DefaultIdle and threads pinned per the plan.
type Config struct {
	// Mode is Off, PerRing or Shared; Default defers to EnvVar.
	Mode Mode
	// Idle is how long an SQ thread spins without work before it sleeps (0:
	// DefaultIdle). The kernel counts whole milliseconds and rounds up. With Shared,
	// the thread sleeps only when every ring has been idle this long.
	Idle time.Duration
	// Affinity pins SQ threads per the numa plan (default) or leaves them unpinned.
	Affinity Affinity
}

// idle returns the idle time rings get.
func (c Config) idle() time.Duration {
	if c.Idle > 0 {
		return c.Idle
	}
	return DefaultIdle
}

// AttachesToFirst reports whether the rings must be created in order: with Shared,
// the first loop's ring creates the SQ thread and every later ring attaches to it, so
// the runtime creates loop 0's driver before the others and passes it to Apply.
func (c Config) AttachesToFirst() bool { return c.Mode == Shared }

func (c Config) validate() error {
	if c.Mode > Shared {
		return fmt.Errorf("sqpoll: unknown mode %v", c.Mode)
	}
	if c.Idle < 0 {
		return fmt.Errorf("sqpoll: negative idle time %v", c.Idle)
	}
	if c.Affinity > AffinityNone {
		return fmt.Errorf("sqpoll: unknown affinity %d", c.Affinity)
	}
	return nil
}

// Decision is the outcome of Decide: the mode the rings get, and why.
type Decision struct {
	// Requested is the mode asked for, after EnvVar; Off when nothing asked.
	Requested Mode `json:"requested"`
	// Mode is the mode the rings get: Requested, or a fallback.
	Mode Mode `json:"mode"`
	// Forced says who asked: "" (nobody: the default), "option" or "env".
	Forced string `json:"forced,omitempty"`
	// Reason explains the outcome in one sentence, for logs and `zokio info`.
	Reason string `json:"reason"`
	// Probed reports whether Decide created probe rings (only for PerRing and Shared).
	Probed bool `json:"probed"`
	// Err is why the kernel refused what was asked, when it did; errors.Is matches
	// ErrRefused, errors.ErrUnsupported and the errno (EPERM, ENOMEM, ...).
	Err error `json:"-"`
}

// ErrRefused matches, with errors.Is, every error that means "the kernel will not give
// this ring an SQ thread here". It matches errors.ErrUnsupported too.
var ErrRefused = fmt.Errorf("sqpoll: SQPOLL refused: %w", errors.ErrUnsupported)

// refusedErr is one refusal: what was tried, the errno, and what it means.
type refusedErr struct {
	what   string
	errno  syscall.Errno
	reason string
}

func (e *refusedErr) Error() string {
	return fmt.Sprintf("sqpoll: %s refused (%v): %s", e.what, e.errno, e.reason)
}

func (e *refusedErr) Is(target error) bool {
	return target == ErrRefused || target == errors.ErrUnsupported
}

func (e *refusedErr) Unwrap() error { return e.errno }

// refusal explains a failed SQPOLL setup. Errors that carry no errno pass through
// wrapped, still matching ErrRefused.
func refusal(what string, err error) error {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return fmt.Errorf("%w: %s: %w", ErrRefused, what, err)
	}
	return &refusedErr{what: what, errno: errno, reason: errnoReason(errno)}
}

func errnoReason(e syscall.Errno) string {
	switch e {
	case syscall.EPERM:
		if b, err := os.ReadFile("/proc/sys/kernel/io_uring_disabled"); err == nil && strings.TrimSpace(string(b)) != "0" {
			return "kernel.io_uring_disabled=" + strings.TrimSpace(string(b)) + " forbids io_uring to this process"
		}
		return "a seccomp filter forbids io_uring_setup (Docker's default profile does), or a kernel before 5.11 reserves SQPOLL to CAP_SYS_ADMIN"
	case syscall.EACCES:
		return "a security module (SELinux, AppArmor) denies io_uring to this process"
	case syscall.ENOSYS:
		return "the kernel has no io_uring"
	case syscall.ENOMEM:
		return "the kernel could not allocate the ring or its thread (RLIMIT_MEMLOCK on kernels before 5.12)"
	case syscall.EINVAL:
		return "the kernel rejects these setup flags (SQPOLL with ATTACH_WQ needs Linux 5.11, or the SQ CPU is not allowed)"
	}
	return "io_uring_setup failed"
}

// Report is what Probe found out about SQPOLL on this machine.
type Report struct {
	// Err is nil when a ring with an SQ thread can be created; otherwise it matches
	// ErrRefused and carries the errno.
	Err error
	// AttachErr is nil when a second SQPOLL ring can share the first one's thread
	// (IORING_SETUP_ATTACH_WQ), which Shared needs. It is set when Err is.
	AttachErr error
}

var probeOnce = sync.OnceValue(probeKernel)

// Probe reports whether this process may use SQPOLL rings, and share their thread,
// by creating them: a two-entry ring with SQPOLL, then a second attached to it, both
// closed again. It runs once per process and remembers the answer. It calls
// io_uring_setup: a process that must not (ZOKIO_DRIVER=epoll, a sandbox that kills
// callers) must not call it.
func Probe() Report { return probeOnce() }

// Decide resolves c against the environment and the kernel. Default becomes EnvVar's
// mode, else Off. Off is decided without touching the kernel; PerRing and Shared are
// probed, and fall back (Shared to PerRing, either to Off) when the kernel refuses,
// with the reason in the Decision: a refusal is not an error. The returned Config has
// the decided mode. Errors are for bad input only: an unknown mode, a negative idle
// time, or a ZOKIO_SQPOLL value ParseMode rejects.
func Decide(c Config) (Config, Decision, error) { return decide(c, Probe) }

func decide(c Config, probe func() Report) (Config, Decision, error) {
	if err := c.validate(); err != nil {
		return c, Decision{}, err
	}
	var d Decision
	switch {
	case c.Mode != Default:
		d.Requested, d.Forced = c.Mode, "option"
	default:
		v := os.Getenv(EnvVar)
		m, err := ParseMode(v)
		if err != nil {
			return c, d, fmt.Errorf("%s: %w", EnvVar, err)
		}
		d.Requested = Off
		if m != Default {
			d.Requested, d.Forced = m, "env"
		}
	}
	d.Mode = d.Requested
	if d.Mode == Off {
		d.Reason = "no SQ thread: " + offWhy(d.Forced)
		c.Mode = Off
		return c, d, nil
	}
	rep := probe()
	d.Probed = true
	switch {
	case rep.Err != nil:
		d.Mode, d.Err = Off, rep.Err
		d.Reason = fmt.Sprintf("%s asked by %s, but %v; rings run without an SQ thread", d.Requested, by(d.Forced), rep.Err)
	case d.Mode == Shared && rep.AttachErr != nil:
		d.Mode, d.Err = PerRing, rep.AttachErr
		d.Reason = fmt.Sprintf("shared asked by %s, but %v; each ring gets its own SQ thread", by(d.Forced), rep.AttachErr)
	case d.Mode == Shared:
		d.Reason = fmt.Sprintf("shared, asked by %s: one SQ thread polls every ring (idle %v)", by(d.Forced), c.idle())
	default:
		d.Reason = fmt.Sprintf("per-ring, asked by %s: each ring has its own SQ thread (idle %v)", by(d.Forced), c.idle())
	}
	c.Mode = d.Mode
	return c, d, nil
}

func offWhy(forced string) string {
	if forced == "" {
		return "SQPOLL is off unless asked for (an SQ thread spins on a CPU; set " + EnvVar + "=per-ring or shared)"
	}
	return "off, asked by " + by(forced)
}

func by(forced string) string {
	if forced == "env" {
		return EnvVar
	}
	return "option"
}

// Fallback turns a failure to create a ring under d into the decision to create it
// without an SQ thread, when the error is a refusal (EPERM, EACCES, ENOMEM, ENOSYS:
// what Probe could not foresee, such as a memory limit reached only by the real
// ring's size). It reports false, and leaves d alone, for other errors and when d is
// already Off. Rings created before keep their SQ threads.
func (d Decision) Fallback(err error) (Decision, bool) {
	var errno syscall.Errno
	if d.Mode == Off || !errors.As(err, &errno) {
		return d, false
	}
	switch errno {
	case syscall.EPERM, syscall.EACCES, syscall.ENOMEM, syscall.ENOSYS:
	default:
		return d, false
	}
	d.Err = refusal("SQPOLL ring", errno)
	d.Reason = fmt.Sprintf("%s decided, but creating a ring failed: %v; rings from here on run without an SQ thread", d.Mode, d.Err)
	d.Mode = Off
	return d, true
}

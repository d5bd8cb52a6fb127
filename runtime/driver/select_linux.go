package driver

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/zokio/zokio/internal/testhook"
	"github.com/zokio/zokio/kqueue"
	"github.com/zokio/zokio/poller"
	"github.com/zokio/zokio/uring"
)

// Config carries each driver's own configuration; Open uses the one it chooses.
type Config struct {
	Uring uring.DriverConfig
	Epoll poller.EpollConfig
	// Kqueue configures the kqueue driver, which Linux has only in test builds with
	// the libkqueue tag (ZOKIO_DRIVER=kqueue then runs the runtime on it).
	Kqueue kqueue.Config
}

// Choose decides which driver to use, without keeping anything open. Unless epoll is
// forced it probes io_uring once per process (a small ring, the opcode probe, a buffer
// ring and a multishot receive) and remembers the answer.
func Choose(pref Kind) (Decision, error) {
	k, forced, err := fromEnv(pref)
	if err != nil {
		return Decision{}, err
	}
	switch k {
	case Epoll:
		return Decision{Kind: Epoll, Forced: forced,
			Reason: "epoll forced by " + forcedBy(forced) + "; io_uring not probed"}, nil
	case Kqueue:
		if newKqueue == nil {
			return Decision{}, fmt.Errorf("driver: kqueue is not available on linux (only in test builds with the libkqueue tag): %w", errors.ErrUnsupported)
		}
		return Decision{Kind: Kqueue, Forced: forced,
			Reason: "kqueue (libkqueue, a test build) forced by " + forcedBy(forced) + "; io_uring not probed"}, nil
	case Uring, Auto:
	default:
		return Decision{}, fmt.Errorf("driver: %s is not available on linux: %w", k, errors.ErrUnsupported)
	}
	p := probeOnce()
	dec := Decision{Probed: true, UringErr: p.err, Missing: p.missing, Forced: forced}
	switch {
	case p.err == nil:
		dec.Kind = Uring
		dec.Reason = "io_uring available: setup succeeded and the probe found every opcode and feature the runtime uses"
		if forced != "" {
			dec.Reason = "io_uring forced by " + forcedBy(forced) + "; " + dec.Reason
		}
	case k == Uring:
		return dec, fmt.Errorf("driver: io_uring forced by %s but %w", forcedBy(forced), p.err)
	case !errors.Is(p.err, ErrUnavailable):
		return dec, p.err
	default:
		dec.Kind = Epoll
		dec.Reason = "epoll, because " + p.err.Error()
	}
	return dec, nil
}

// Open chooses a driver as Choose does and creates it. If io_uring was chosen
// automatically but the ring cannot be created for a reason that means unavailability
// (a memlock limit reached only by this larger ring, say), Open falls back to epoll and
// says so in the Decision.
func Open(pref Kind, cfg Config) (poller.Driver, Decision, error) {
	dec, err := Choose(pref)
	if err != nil {
		return nil, dec, err
	}
	if dec.Kind == Kqueue {
		return newKqueue(cfg.Kqueue, dec)
	}
	if dec.Kind == Uring {
		d, err := uring.NewDriver(cfg.Uring)
		if err == nil {
			return testhook.WrapDriver(d), dec, nil
		}
		uerr := classify(err)
		if dec.Forced != "" || !errors.Is(uerr, ErrUnavailable) {
			return nil, dec, err
		}
		dec.Kind, dec.UringErr = Epoll, uerr
		dec.Reason = "epoll, because creating the io_uring driver failed: " + uerr.Error()
	}
	d, err := poller.NewEpoll(cfg.Epoll)
	if err != nil {
		return nil, dec, err
	}
	return testhook.WrapDriver(d), dec, nil
}

// newKqueue opens the kqueue driver; it is set only in builds with the libkqueue tag.
var newKqueue func(cfg kqueue.Config, dec Decision) (poller.Driver, Decision, error)

// unavailableErr explains one errno from io_uring_setup.
type unavailableErr struct {
	errno  syscall.Errno
	reason string
}

func (e *unavailableErr) Error() string {
	return fmt.Sprintf("io_uring unavailable (%s: %v): %s", unix.ErrnoName(e.errno), e.errno, e.reason)
}

func (e *unavailableErr) Is(target error) bool {
	return target == ErrUnavailable || target == errors.ErrUnsupported
}

func (e *unavailableErr) Unwrap() error { return e.errno }

// classify turns a setup error into an unavailableErr when it means "io_uring cannot be
// used here"; other errors pass through.
func classify(err error) error {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return err
	}
	switch errno {
	case syscall.ENOSYS:
		return &unavailableErr{errno, "the kernel has no io_uring (built without it, or a seccomp filter answers ENOSYS)"}
	case syscall.EPERM:
		return &unavailableErr{errno, epermReason()}
	case syscall.EACCES:
		return &unavailableErr{errno, "a security module (SELinux, AppArmor) denies io_uring to this process"}
	case syscall.ENOMEM:
		return &unavailableErr{errno, "the kernel could not allocate or lock the ring's memory (RLIMIT_MEMLOCK on kernels before 5.12)"}
	}
	return err
}

// epermReason tells the sysctl apart from a seccomp filter where it can.
func epermReason() string {
	// No such sysctl (before Linux 6.6) or an unreadable one reads as "": seccomp.
	b, _ := os.ReadFile("/proc/sys/kernel/io_uring_disabled")
	return epermReasonFor(string(b))
}

// epermReasonFor explains EPERM from io_uring_setup given the contents of
// kernel.io_uring_disabled ("" when it cannot be read).
func epermReasonFor(sysctl string) string {
	switch strings.TrimSpace(sysctl) {
	case "2":
		return "kernel.io_uring_disabled=2 forbids io_uring for every process"
	case "1":
		return "kernel.io_uring_disabled=1 allows io_uring only to members of kernel.io_uring_group"
	}
	return "a seccomp filter forbids io_uring_setup (Docker's and containerd's default profiles do since 2023)"
}

var probeOnce = sync.OnceValue(probeUring)

// UringReport is what the io_uring probe found, for diagnostics such as `zokio info`.
type UringReport struct {
	Err      error              // nil when io_uring is usable
	Features uring.FeatureFlags // the kernel's feature bits (zero if setup failed)
	Missing  []string           // required opcodes and features the kernel lacks
	Opcodes  int                // required opcodes the kernel has
	Required int                // required opcodes in all
}

// ProbeUring returns the (cached) result of the io_uring probe. It calls io_uring_setup
// the first time: callers honouring ZOKIO_DRIVER=epoll must not call it then.
func ProbeUring() UringReport {
	p := probeOnce()
	return UringReport{Err: p.err, Features: p.features, Missing: p.missing, Opcodes: p.ops, Required: len(requiredOps)}
}

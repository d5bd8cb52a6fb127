package sqpoll

import (
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/zokio/zokio/internal/iouringblock"

	"github.com/zokio/zokio/uring"
)

// requireURingEnv is set by .ci/run: io_uring, SQPOLL included, works on the CI host,
// so a refusal there is a bug, not a property of the host.
const requireURingEnv = "ZOKIO_REQUIRE_URING"

func TestProbeHere(t *testing.T) {
	if _, ok := sandbox.Mode(); ok {
		t.Skip("runs in the parent only")
	}
	r := Probe()
	t.Logf("probe: err %v, attach err %v", r.Err, r.AttachErr)
	if os.Getenv(requireURingEnv) != "" && (r.Err != nil || r.AttachErr != nil) {
		t.Fatalf("%s is set but SQPOLL is refused: %v / %v", requireURingEnv, r.Err, r.AttachErr)
	}
	if r.Err != nil && !errors.Is(r.Err, ErrRefused) {
		t.Fatalf("a refusal that does not match ErrRefused: %v", r.Err)
	}
	if r.Err == nil {
		t.Setenv(EnvVar, "")
		for _, m := range []Mode{PerRing, Shared} {
			c, d, err := Decide(Config{Mode: m})
			if err != nil || c.Mode != m || d.Mode != m || d.Err != nil || !d.Probed {
				t.Errorf("Decide(%v) here: %+v %+v %v", m, c, d, err)
			}
		}
	}
}

// refusingCreate is uring.New with SQPOLL refused the way a kernel refuses it: plain
// rings work, rings asking for SQPOLL (or, with attachOnly, attaching to another) get
// errno, wrapped as uring.New wraps it.
func refusingCreate(errno syscall.Errno, attachOnly bool) func(uring.Config) (*uring.Ring, error) {
	return func(c uring.Config) (*uring.Ring, error) {
		refuse := c.Flags&uring.SetupSQPoll != 0
		if attachOnly {
			refuse = c.AttachWQ != 0
		}
		if refuse {
			return nil, os.NewSyscallError("io_uring_setup", errno)
		}
		return uring.New(c)
	}
}

func TestProbeInjectedRefusal(t *testing.T) {
	if _, ok := sandbox.Mode(); ok {
		t.Skip("runs in the parent only")
	}
	if _, err := uring.New(uring.Config{Entries: 2}); err != nil {
		t.Skipf("no io_uring here: %v", err)
	}
	r := probe(refusingCreate(syscall.EPERM, false))
	if !errors.Is(r.Err, syscall.EPERM) || !errors.Is(r.Err, ErrRefused) || !errors.Is(r.AttachErr, syscall.EPERM) {
		t.Fatalf("SQPOLL refused with EPERM: %+v", r)
	}
	if !strings.Contains(r.Err.Error(), "seccomp") {
		t.Errorf("the EPERM reason does not name the usual cause: %v", r.Err)
	}
	_, d, err := decide(Config{Mode: Shared}, func() Report { return r })
	if err != nil || d.Mode != Off || !errors.Is(d.Err, syscall.EPERM) {
		t.Fatalf("Shared under refusal: %+v, %v", d, err)
	}

	r = probe(refusingCreate(syscall.EINVAL, true))
	if r.Err != nil || !errors.Is(r.AttachErr, syscall.EINVAL) {
		t.Fatalf("ATTACH_WQ refused with EINVAL: %+v", r)
	}
	_, d, err = decide(Config{Mode: Shared}, func() Report { return r })
	if err != nil || d.Mode != PerRing || !strings.Contains(d.Reason, "own SQ thread") {
		t.Fatalf("Shared without ATTACH_WQ: %+v, %v", d, err)
	}
}

// TestRefusedUnderSeccomp runs a child whose io_uring_setup fails with EPERM, as under
// Docker's default profile: SQPOLL asked for by the environment falls back to Off, and
// says why.
func TestRefusedUnderSeccomp(t *testing.T) {
	if _, ok := sandbox.Mode(); ok {
		t.Skip("runs in the parent only")
	}
	out, err := sandbox.Run(t, "EPERM", "TestSandboxedChild", EnvVar+"=shared")
	if err != nil || !strings.Contains(out, "--- PASS: TestSandboxedChild") {
		t.Fatalf("child under EPERM: %v\n%s", err, iouringblock.LastLines(out, 30))
	}
	if !strings.Contains(out, "decision: off —") || !strings.Contains(out, "operation not permitted") {
		t.Fatalf("the child's decision does not fall back with the reason:\n%s", iouringblock.LastLines(out, 20))
	}
}

// TestOffNeverProbes runs a child that the kernel kills if it calls io_uring_setup:
// deciding Off (the default) must not.
func TestOffNeverProbes(t *testing.T) {
	if _, ok := sandbox.Mode(); ok {
		t.Skip("runs in the parent only")
	}
	out, err := sandbox.Run(t, "KILL", "TestSandboxedChild", EnvVar+"=")
	if err != nil || !strings.Contains(out, "--- PASS: TestSandboxedChild") {
		t.Fatalf("child under KILL with SQPOLL off: %v\n%s", err, iouringblock.LastLines(out, 30))
	}
}

// TestSandboxedChild runs only inside the sandboxed children above.
func TestSandboxedChild(t *testing.T) {
	mode, ok := sandbox.Mode()
	if !ok {
		t.Skip("runs only as the child of TestRefusedUnderSeccomp and TestOffNeverProbes")
	}
	c, d, err := Decide(Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("decision: %s — %s", d.Mode, d.Reason)
	if c.Mode != Off || d.Mode != Off {
		t.Fatalf("sandboxed child got %v", d.Mode)
	}
	if mode == "EPERM" {
		if d.Requested != Shared || d.Forced != "env" || !d.Probed || !errors.Is(d.Err, syscall.EPERM) || !errors.Is(d.Err, ErrRefused) {
			t.Fatalf("EPERM child: %+v", d)
		}
	}
	if mode == "KILL" && d.Probed {
		t.Fatalf("Off probed: %+v", d)
	}
}

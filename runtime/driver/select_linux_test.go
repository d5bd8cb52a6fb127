package driver_test

import (
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/zokio/zokio/internal/iouringblock"

	"github.com/zokio/zokio/poller"
	"github.com/zokio/zokio/poller/pollertest"
	"github.com/zokio/zokio/runtime/driver"
)

// prepareChild installs the sandbox when this process is a sandboxed child.
func prepareChild() { sandbox.Prepare() }

// requireURingEnv is set by .ci/run: on the CI host io_uring is available, so a
// fallback to epoll there is a bug, not a degradation.
const requireURingEnv = "ZOKIO_REQUIRE_URING"

func TestAutoChoosesURingHere(t *testing.T) {
	if _, ok := sandbox.Mode(); ok {
		t.Skip("runs in the parent only")
	}
	t.Setenv(driver.EnvVar, "")
	dec, err := driver.Choose(driver.Auto)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("decision: %s (%s)", dec.Kind, dec.Reason)
	if dec.Kind != driver.Uring {
		if os.Getenv(requireURingEnv) != "" {
			t.Fatalf("%s is set, but the runtime fell back to %s: %s (uring error: %v)",
				requireURingEnv, dec.Kind, dec.Reason, dec.UringErr)
		}
		t.Skipf("io_uring unavailable on this host: %v", dec.UringErr)
	}
	if !dec.Probed || dec.UringErr != nil || len(dec.Missing) > 0 {
		t.Fatalf("io_uring chosen with probed=%v err=%v missing=%v", dec.Probed, dec.UringErr, dec.Missing)
	}
	d, dec2, err := driver.Open(driver.Auto, driver.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.Info().Name != "uring" || dec2.Kind != driver.Uring {
		t.Fatalf("Open gave %s (%s)", d.Info().Name, dec2.Kind)
	}
}

func TestForcing(t *testing.T) {
	if _, ok := sandbox.Mode(); ok {
		t.Skip("runs in the parent only")
	}
	t.Setenv(driver.EnvVar, "epoll")
	dec, err := driver.Choose(driver.Auto)
	if err != nil || dec.Kind != driver.Epoll || dec.Forced != "env" || dec.Probed {
		t.Fatalf("ZOKIO_DRIVER=epoll: %+v, %v", dec, err)
	}
	// The option wins over the environment.
	if dec, err := driver.Choose(driver.Uring); err == nil && dec.Forced != "option" {
		t.Fatalf("option uring under ZOKIO_DRIVER=epoll: %+v", dec)
	}
	t.Setenv(driver.EnvVar, "nonsense")
	if _, err := driver.Choose(driver.Auto); err == nil || !strings.Contains(err.Error(), driver.EnvVar) {
		t.Fatalf("bad ZOKIO_DRIVER: %v, want an error naming the variable", err)
	}
	if _, err := driver.ParseKind("kqeue"); err == nil {
		t.Fatal("ParseKind accepted a misspelling")
	}
	for _, s := range []string{"", "auto", "URING", " epoll "} {
		if _, err := driver.ParseKind(s); err != nil {
			t.Errorf("ParseKind(%q): %v", s, err)
		}
	}
}

// TestOpenEpollConfigError: Open returns the epoll driver's own refusal of a bad
// config, and no driver.
func TestOpenEpollConfigError(t *testing.T) {
	if _, ok := sandbox.Mode(); ok {
		t.Skip("runs in the parent only")
	}
	d, dec, err := driver.Open(driver.Epoll, driver.Config{Epoll: poller.EpollConfig{Workers: -1}})
	if err == nil {
		d.Close()
	}
	if d != nil || !errors.Is(err, syscall.EINVAL) || dec.Kind != driver.Epoll {
		t.Fatalf("Open(epoll, Workers: -1) = %v, %+v, %v; want no driver and EINVAL", d, dec, err)
	}
}

// TestFallbackUnderSeccomp is the proof that the fallback is real: a child process in
// which io_uring_setup, _enter and _register fail with EPERM (Docker's default profile,
// kernel.io_uring_disabled) or ENOSYS (a kernel without io_uring) must choose epoll,
// say why, and pass the whole conformance suite on what it chose.
func TestFallbackUnderSeccomp(t *testing.T) {
	if _, ok := sandbox.Mode(); ok {
		t.Skip("runs in the parent only")
	}
	for _, mode := range []string{"EPERM", "ENOSYS"} {
		t.Run(mode, func(t *testing.T) {
			out, err := sandbox.Run(t, mode, "TestSandboxedChild", driver.EnvVar+"=")
			if err != nil || !strings.Contains(out, "--- PASS: TestSandboxedChild") {
				t.Fatalf("child under %s failed: %v\n%s", mode, err, iouringblock.LastLines(out, 40))
			}
			if !strings.Contains(out, "epoll, because io_uring unavailable ("+mode) {
				t.Fatalf("child's decision does not name %s:\n%s", mode, iouringblock.LastLines(out, 20))
			}
		})
	}
}

// TestForcedEpollNeverProbes runs a child that is killed if it calls io_uring_setup,
// with ZOKIO_DRIVER=epoll: it must survive and work.
func TestForcedEpollNeverProbes(t *testing.T) {
	if _, ok := sandbox.Mode(); ok {
		t.Skip("runs in the parent only")
	}
	out, err := sandbox.Run(t, "KILL", "TestSandboxedChild", driver.EnvVar+"=epoll")
	if err != nil || !strings.Contains(out, "--- PASS: TestSandboxedChild") {
		t.Fatalf("child with ZOKIO_DRIVER=epoll under a killing filter: %v\n%s", err, iouringblock.LastLines(out, 40))
	}
}

// TestSandboxedChild runs only inside the sandboxed child processes above.
func TestSandboxedChild(t *testing.T) {
	mode, ok := sandbox.Mode()
	if !ok {
		t.Skip("runs only as the child of TestFallbackUnderSeccomp and TestForcedEpollNeverProbes")
	}
	if mode != "KILL" {
		want := map[string]syscall.Errno{"EPERM": syscall.EPERM, "ENOSYS": syscall.ENOSYS}[mode]
		if got := setupErrno(); got != want {
			t.Fatalf("io_uring_setup in the sandbox: errno %v, want %v", got, want)
		}
		if _, err := driver.Choose(driver.Uring); !errors.Is(err, driver.ErrUnavailable) || !errors.Is(err, want) {
			t.Fatalf("forcing uring in the sandbox: %v, want ErrUnavailable wrapping %v", err, want)
		}
	}
	dec, err := driver.Choose(driver.Auto)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("decision: %s — %s", dec.Kind, dec.Reason)
	if dec.Kind != driver.Epoll {
		t.Fatalf("sandboxed child chose %s", dec.Kind)
	}
	pollertest.Run(t, func(t *testing.T) poller.Driver {
		d, dec, err := driver.Open(driver.Auto, driver.Config{})
		if err != nil {
			t.Fatal(err)
		}
		if dec.Kind != driver.Epoll || d.Info().Name != "epoll" {
			t.Fatalf("Open in the sandbox gave %s", d.Info().Name)
		}
		return d
	})
}

package driver_test

import (
	"errors"
	"strings"
	"syscall"
	"testing"

	"github.com/zokio/zokio/internal/iouringblock"
	"github.com/zokio/zokio/kqueue"
	"github.com/zokio/zokio/runtime/driver"
)

// TestFallbackOnLackingKernel runs children whose seccomp filter makes the kernel look
// like one the runtime cannot use in a narrower way than TestFallbackUnderSeccomp: a
// security module's EACCES, no IORING_REGISTER_PROBE (before 5.6), no provided buffer
// rings (before 5.19), a ring that can be probed but not created at full size, and a
// setup error that is no unavailability.
// Each child checks the decision and what Open does in TestLackingKernelChild.
func TestFallbackOnLackingKernel(t *testing.T) {
	if _, ok := sandbox.Mode(); ok {
		t.Skip("runs in the parent only")
	}
	for _, mode := range []string{"EACCES", "NOPROBE", "NOPBUF", "BIG:ENOMEM", "BIG:EINVAL", "SETUP:EINVAL"} {
		t.Run(strings.ReplaceAll(mode, ":", "_"), func(t *testing.T) {
			out, err := sandbox.Run(t, mode, "TestLackingKernelChild", driver.EnvVar+"=")
			if err != nil || !strings.Contains(out, "--- PASS: TestLackingKernelChild") {
				t.Fatalf("child under %s failed: %v\n%s", mode, err, iouringblock.LastLines(out, 40))
			}
		})
	}
}

// TestLackingKernelChild runs only inside the children of TestFallbackOnLackingKernel.
func TestLackingKernelChild(t *testing.T) {
	mode, ok := sandbox.Mode()
	if !ok {
		t.Skip("runs only as the child of TestFallbackOnLackingKernel")
	}
	switch mode {
	case "EACCES", "NOPROBE", "NOPBUF":
		// The probe itself fails: Auto chooses epoll and says why, forcing io_uring is
		// an ErrUnavailable error, and Open gives a working epoll driver.
		want := map[string]string{
			"EACCES":  "io_uring unavailable (EACCES: permission denied): a security module",
			"NOPROBE": "IORING_REGISTER_PROBE failed: io_uring_register: invalid argument",
			"NOPBUF":  "the kernel lacks [provided buffer rings (",
		}[mode]
		dec, err := driver.Choose(driver.Auto)
		if err != nil || dec.Kind != driver.Epoll || !dec.Probed || !strings.Contains(dec.Reason, want) {
			t.Fatalf("Choose(Auto): %+v, %v; want epoll with a reason containing %q", dec, err, want)
		}
		if !errors.Is(dec.UringErr, driver.ErrUnavailable) || !errors.Is(dec.UringErr, errors.ErrUnsupported) {
			t.Fatalf("UringErr %v does not match ErrUnavailable and ErrUnsupported", dec.UringErr)
		}
		if mode == "EACCES" && !errors.Is(dec.UringErr, syscall.EACCES) {
			t.Fatalf("UringErr %v does not wrap EACCES", dec.UringErr)
		}
		if mode == "NOPBUF" && (len(dec.Missing) != 1 || !strings.HasPrefix(dec.Missing[0], "provided buffer rings")) {
			t.Fatalf("Missing = %q, want only the provided buffer rings", dec.Missing)
		}
		if rep := driver.ProbeUring(); rep.Err == nil || rep.Err.Error() != dec.UringErr.Error() {
			t.Fatalf("ProbeUring().Err = %v, want the decision's %v", rep.Err, dec.UringErr)
		}
		if _, err := driver.Choose(driver.Uring); !errors.Is(err, driver.ErrUnavailable) || !strings.Contains(err.Error(), "io_uring forced by option") {
			t.Fatalf("Choose(Uring): %v, want ErrUnavailable naming the option", err)
		}
		if d, _, err := driver.Open(driver.Uring, driver.Config{}); err == nil {
			d.Close()
			t.Fatal("Open(Uring) succeeded where io_uring is unavailable")
		}
		d, dec, err := driver.Open(driver.Auto, driver.Config{})
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		if d.Info().Name != "epoll" || dec.Kind != driver.Epoll {
			t.Fatalf("Open(Auto) gave %s (%s)", d.Info().Name, dec.Kind)
		}
	case "BIG:ENOMEM":
		// The small probe ring works, so Choose says io_uring; the full-size ring
		// fails for want of memory, which means unavailable: Open falls back to epoll
		// and says so, unless io_uring was forced.
		dec, err := driver.Choose(driver.Auto)
		if err != nil || dec.Kind != driver.Uring {
			t.Fatalf("Choose(Auto): %+v, %v; want uring (the probe ring is small)", dec, err)
		}
		d, dec, err := driver.Open(driver.Auto, driver.Config{})
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		if d.Info().Name != "epoll" || dec.Kind != driver.Epoll ||
			!strings.Contains(dec.Reason, "creating the io_uring driver failed: io_uring unavailable (ENOMEM") {
			t.Fatalf("Open(Auto) gave %s: %+v", d.Info().Name, dec)
		}
		if !errors.Is(dec.UringErr, driver.ErrUnavailable) || !errors.Is(dec.UringErr, syscall.ENOMEM) {
			t.Fatalf("UringErr %v does not match ErrUnavailable and ENOMEM", dec.UringErr)
		}
		if d, _, err := driver.Open(driver.Uring, driver.Config{}); !errors.Is(err, syscall.ENOMEM) {
			if err == nil {
				d.Close()
			}
			t.Fatalf("Open(Uring): %v, want the ENOMEM itself (forced: no fallback)", err)
		}
	case "BIG:EINVAL":
		// EINVAL from the full-size ring is a bad configuration, not unavailability:
		// Open returns it rather than hiding it behind epoll.
		d, _, err := driver.Open(driver.Auto, driver.Config{})
		if !errors.Is(err, syscall.EINVAL) || errors.Is(err, driver.ErrUnavailable) {
			if err == nil {
				d.Close()
			}
			t.Fatalf("Open(Auto): %v, want EINVAL, not a fallback", err)
		}
	case "SETUP:EINVAL":
		// The probe ring itself is refused with an errno that does not mean "no
		// io_uring here": Choose reports it instead of choosing epoll behind it.
		dec, err := driver.Choose(driver.Auto)
		if !errors.Is(err, syscall.EINVAL) || errors.Is(err, driver.ErrUnavailable) || !dec.Probed {
			t.Fatalf("Choose(Auto): %+v, %v; want the probe's EINVAL", dec, err)
		}
		if d, _, err := driver.Open(driver.Auto, driver.Config{}); !errors.Is(err, syscall.EINVAL) {
			if err == nil {
				d.Close()
			}
			t.Fatalf("Open(Auto): %v, want the probe's EINVAL", err)
		}
	default:
		t.Fatalf("unknown mode %q", mode)
	}
}

// TestForcingUnavailableKinds: kqueue (outside libkqueue test builds) and iocp do not
// exist on Linux; forcing them is an ErrUnsupported error, never a fallback, and
// ZOKIO_DRIVER=auto is no forcing at all.
func TestForcingUnavailableKinds(t *testing.T) {
	if _, ok := sandbox.Mode(); ok {
		t.Skip("runs in the parent only")
	}
	for _, k := range []driver.Kind{driver.Kqueue, driver.IOCP} {
		dec, err := driver.Choose(k)
		if k == driver.Kqueue && err == nil && dec.Kind == driver.Kqueue {
			// A build with the libkqueue tag: kqueue is there, on libkqueue, and
			// forcing it probes nothing.
			d, dec, err := driver.Open(k, driver.Config{})
			if err != nil {
				t.Fatalf("Open(kqueue) in a libkqueue build: %v", err)
			}
			name := d.Info().Name
			d.Close()
			if name != "kqueue" || dec.Kind != driver.Kqueue || dec.Probed || !strings.Contains(dec.Reason, "libkqueue") {
				t.Errorf("Open(kqueue) in a libkqueue build: %s, %+v", name, dec)
			}
			// The kqueue driver's own refusal of a bad config comes back as is.
			if d, _, err := driver.Open(k, driver.Config{Kqueue: kqueue.Config{Workers: -1}}); err == nil || d != nil {
				if d != nil {
					d.Close()
				}
				t.Errorf("Open(kqueue, Workers: -1) = %v, want an error", err)
			}
			continue
		}
		if !errors.Is(err, errors.ErrUnsupported) || !strings.Contains(err.Error(), string(k)) {
			t.Errorf("Choose(%s): %+v, %v; want ErrUnsupported naming %s", k, dec, err, k)
		}
		if d, _, err := driver.Open(k, driver.Config{}); err == nil {
			d.Close()
			t.Errorf("Open(%s) succeeded on linux", k)
		}
	}
	t.Setenv(driver.EnvVar, "AUTO")
	dec, err := driver.Choose(driver.Auto)
	if err != nil || dec.Forced != "" {
		t.Fatalf("ZOKIO_DRIVER=AUTO: %+v, %v; want an unforced decision", dec, err)
	}
}

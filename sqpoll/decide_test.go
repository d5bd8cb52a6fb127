package sqpoll

import (
	"errors"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestParseMode(t *testing.T) {
	for in, want := range map[string]Mode{
		"": Default, "default": Default, "off": Off, " OFF ": Off, "0": Off,
		"per-ring": PerRing, "perring": PerRing, "per_ring": PerRing, "on": PerRing, "shared": Shared,
	} {
		if got, err := ParseMode(in); err != nil || got != want {
			t.Errorf("ParseMode(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := ParseMode("sharde"); err == nil {
		t.Error("ParseMode accepted a misspelling")
	}
	for _, m := range []Mode{Default, Off, PerRing, Shared} {
		if back, err := ParseMode(m.String()); err != nil || back != m {
			t.Errorf("%v does not round-trip: %v, %v", m, back, err)
		}
	}
	if Mode(9).String() != "mode(9)" {
		t.Error("String of an unknown mode")
	}
}

// noProbe fails the test if Decide creates probe rings.
func noProbe(t *testing.T) func() Report {
	return func() Report {
		t.Helper()
		t.Error("Decide probed the kernel for Off")
		return Report{}
	}
}

func fixed(r Report) func() Report { return func() Report { return r } }

func TestDecideDefaultIsOffWithoutProbing(t *testing.T) {
	t.Setenv(EnvVar, "")
	c, d, err := decide(Config{}, noProbe(t))
	if err != nil || c.Mode != Off || d.Mode != Off || d.Requested != Off || d.Forced != "" || d.Probed || d.Err != nil {
		t.Fatalf("default: %+v %+v %v", c, d, err)
	}
	if !strings.Contains(d.Reason, EnvVar) {
		t.Errorf("the default's reason should say how to turn SQPOLL on: %q", d.Reason)
	}
	// Off asked for explicitly: still no probe.
	if _, d, _ := decide(Config{Mode: Off}, noProbe(t)); d.Forced != "option" || d.Mode != Off {
		t.Fatalf("option off: %+v", d)
	}
}

func TestDecideEnvAndOption(t *testing.T) {
	t.Setenv(EnvVar, "shared")
	c, d, err := decide(Config{}, fixed(Report{}))
	if err != nil || c.Mode != Shared || d.Forced != "env" || !d.Probed || !strings.Contains(d.Reason, EnvVar) {
		t.Fatalf("env shared: %+v %+v %v", c, d, err)
	}
	// The option wins over the environment.
	c, d, err = decide(Config{Mode: PerRing, Idle: 3 * time.Millisecond}, fixed(Report{}))
	if err != nil || c.Mode != PerRing || d.Forced != "option" || !strings.Contains(d.Reason, "idle 3ms") {
		t.Fatalf("option per-ring: %+v %+v %v", c, d, err)
	}
	t.Setenv(EnvVar, "nonsense")
	if _, _, err := decide(Config{}, noProbe(t)); err == nil || !strings.Contains(err.Error(), EnvVar) {
		t.Fatalf("bad %s: %v", EnvVar, err)
	}
}

func TestDecideBadConfig(t *testing.T) {
	for _, c := range []Config{{Mode: 7}, {Idle: -time.Second}, {Affinity: 5}} {
		if _, _, err := decide(c, noProbe(t)); err == nil {
			t.Errorf("decide(%+v) accepted it", c)
		}
	}
}

func TestDecideFallsBack(t *testing.T) {
	eperm := refusal("SQPOLL ring", syscall.EPERM)
	einval := refusal("SQPOLL ring attached to another (ATTACH_WQ)", syscall.EINVAL)
	for _, c := range []struct {
		ask  Mode
		rep  Report
		want Mode
		err  error
	}{
		{PerRing, Report{Err: eperm, AttachErr: eperm}, Off, syscall.EPERM},
		{Shared, Report{Err: eperm, AttachErr: eperm}, Off, syscall.EPERM},
		{Shared, Report{AttachErr: einval}, PerRing, syscall.EINVAL},
		{PerRing, Report{AttachErr: einval}, PerRing, nil}, // PerRing never attaches
	} {
		cfg, d, err := decide(Config{Mode: c.ask}, fixed(c.rep))
		if err != nil || cfg.Mode != c.want || d.Mode != c.want || d.Requested != c.ask {
			t.Errorf("%v with %+v: %v / %+v, %v; want %v", c.ask, c.rep, cfg.Mode, d, err, c.want)
			continue
		}
		if c.err == nil {
			if d.Err != nil {
				t.Errorf("%v: unexpected refusal %v", c.ask, d.Err)
			}
			continue
		}
		if !errors.Is(d.Err, c.err) || !errors.Is(d.Err, ErrRefused) || !errors.Is(d.Err, errors.ErrUnsupported) {
			t.Errorf("%v: Err %v does not match %v, ErrRefused and ErrUnsupported", c.ask, d.Err, c.err)
		}
		if !strings.Contains(d.Reason, d.Err.Error()) {
			t.Errorf("%v: the reason does not carry the refusal: %q", c.ask, d.Reason)
		}
	}
}

func TestDecisionFallback(t *testing.T) {
	d := Decision{Requested: PerRing, Mode: PerRing, Forced: "option"}
	off, ok := d.Fallback(wrapped(syscall.ENOMEM))
	if !ok || off.Mode != Off || off.Requested != PerRing || !errors.Is(off.Err, syscall.ENOMEM) || !errors.Is(off.Err, ErrRefused) {
		t.Fatalf("ENOMEM: %+v, %v", off, ok)
	}
	for _, err := range []error{wrapped(syscall.EINVAL), errors.New("no errno"), nil} {
		if same, ok := d.Fallback(err); ok || same.Mode != PerRing {
			t.Errorf("Fallback(%v) = %+v, %v: only refusals fall back", err, same, ok)
		}
	}
	if _, ok := (Decision{Mode: Off}).Fallback(wrapped(syscall.EPERM)); ok {
		t.Error("Off has nothing to fall back from")
	}
}

// wrapped is an errno as the uring binding returns it: inside an *os.SyscallError.
func wrapped(e syscall.Errno) error {
	return &wrapErr{e}
}

type wrapErr struct{ e syscall.Errno }

func (w *wrapErr) Error() string { return "io_uring_setup: " + w.e.Error() }
func (w *wrapErr) Unwrap() error { return w.e }

func TestRefusalMessages(t *testing.T) {
	for _, e := range []syscall.Errno{syscall.EPERM, syscall.EACCES, syscall.ENOSYS, syscall.ENOMEM, syscall.EINVAL, syscall.EBUSY} {
		err := refusal("SQPOLL ring", wrapped(e))
		if !errors.Is(err, e) || !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), e.Error()) {
			t.Errorf("%v: %v", e, err)
		}
	}
	if err := refusal("x", errors.New("plain")); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "plain") {
		t.Errorf("an error without errno: %v", err)
	}
}

func TestAttachesToFirst(t *testing.T) {
	if !(Config{Mode: Shared}).AttachesToFirst() || (Config{Mode: PerRing}).AttachesToFirst() {
		t.Fatal("only Shared orders ring creation")
	}
	if (Config{}).idle() != DefaultIdle || (Config{Idle: time.Second}).idle() != time.Second {
		t.Fatal("idle default")
	}
}

func TestModeJSON(t *testing.T) {
	var m Mode
	if err := m.UnmarshalText([]byte("shared")); err != nil || m != Shared {
		t.Fatalf("UnmarshalText: %v, %v", m, err)
	}
	if err := m.UnmarshalText([]byte("bogus")); err == nil || m != Shared {
		t.Fatalf("a bad name must fail and leave the mode: %v, %v", m, err)
	}
	if b, _ := PerRing.MarshalText(); string(b) != "per-ring" {
		t.Fatalf("MarshalText: %s", b)
	}
}

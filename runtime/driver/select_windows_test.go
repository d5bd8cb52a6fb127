package driver_test

import (
	"errors"
	"testing"

	"github.com/zokio/zokio/runtime/driver"
)

func TestChooseWindows(t *testing.T) {
	t.Setenv(driver.EnvVar, "")
	dec, err := driver.Choose(driver.Auto)
	if err != nil || dec.Kind != driver.IOCP || dec.Forced != "" || dec.Reason == "" {
		t.Fatalf("Choose(Auto) = %+v, %v; want iocp, unforced, with a reason", dec, err)
	}
	t.Setenv(driver.EnvVar, "iocp")
	if dec, err := driver.Choose(driver.Auto); err != nil || dec.Kind != driver.IOCP || dec.Forced != "env" {
		t.Fatalf("ZOKIO_DRIVER=iocp: %+v, %v", dec, err)
	}
	t.Setenv(driver.EnvVar, "epoll")
	if _, err := driver.Choose(driver.Auto); !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("ZOKIO_DRIVER=epoll on windows: %v, want ErrUnsupported", err)
	}
	if _, err := driver.Choose(driver.Uring); !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("Choose(Uring) on windows: %v, want ErrUnsupported", err)
	}
}

func TestOpenWindows(t *testing.T) {
	t.Setenv(driver.EnvVar, "")
	d, dec, err := driver.Open(driver.Auto, driver.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Info().Name != "iocp" || dec.Kind != driver.IOCP {
		t.Fatalf("Open gave %s (%s)", d.Info().Name, dec.Kind)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
}

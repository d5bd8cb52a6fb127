package main

import (
	"strings"
	"testing"

	"github.com/zokio/zokio/poller"
	"github.com/zokio/zokio/runtime/driver"
	"github.com/zokio/zokio/uring"
)

// TestInfoIncrementalBuffers: info's PBUF_RING_INC line says what an io_uring driver
// made here reports (and so which receive group znet gives its loops by default).
func TestInfoIncrementalBuffers(t *testing.T) {
	t.Setenv(driver.EnvVar, "")
	d, err := uring.NewDriver(uring.DriverConfig{})
	if err != nil {
		t.Skipf("no io_uring driver here: %v", err)
	}
	has := d.Info().Features.Has(poller.FeatIncrementalBuffers)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	out, errs, code := runCmd(t, "info")
	if code != 0 {
		t.Fatalf("info exited %d: %s", code, errs)
	}
	want := "PBUF_RING_INC   refused"
	if has {
		want = "PBUF_RING_INC   accepted"
	}
	if !strings.Contains(out, want) {
		t.Fatalf("the driver's incremental-buffers feature is %v, but info does not say %q:\n%s", has, want, out)
	}
}

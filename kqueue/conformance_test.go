//go:build darwin || dragonfly || freebsd || netbsd || openbsd || (linux && libkqueue)

package kqueue

import (
	"testing"

	"github.com/zokio/zokio/poller"
	"github.com/zokio/zokio/poller/pollertest"
)

func TestConformance(t *testing.T) {
	warmUp(t)
	pollertest.Run(t, func(t *testing.T) poller.Driver {
		d, err := New(Config{})
		if err != nil {
			t.Fatal(err)
		}
		return d
	})
}

// TestConformancePipeWake runs the suite with the pipe wake of NetBSD and OpenBSD.
func TestConformancePipeWake(t *testing.T) {
	warmUp(t)
	pipeWake = true
	defer func() { pipeWake = false }()
	pollertest.Run(t, func(t *testing.T) poller.Driver {
		d, err := New(Config{})
		if err != nil {
			t.Fatal(err)
		}
		return d
	})
}

// warmUp makes and closes one driver before the suite counts descriptors: libkqueue
// starts a monitoring thread with descriptors of its own at the first kqueue of the
// process (kept while it lives), which would read as a leak of the first scenario.
func warmUp(t *testing.T) {
	d, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
}

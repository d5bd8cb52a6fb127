//go:build darwin || dragonfly || freebsd || netbsd || openbsd || (linux && libkqueue)

package kqueue

import (
	"testing"

	"github.com/zokio/zokio/poller"
	"github.com/zokio/zokio/poller/pollertest"
)

func TestConformance(t *testing.T) {
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

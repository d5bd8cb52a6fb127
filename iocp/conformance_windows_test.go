package iocp_test

import (
	"testing"

	"github.com/zokio/zokio/iocp"
	"github.com/zokio/zokio/poller"
	"github.com/zokio/zokio/poller/pollertest"
)

// TestConformance runs the portable conformance suite on the IOCP driver.
func TestConformance(t *testing.T) {
	pollertest.Run(t, func(t *testing.T) poller.Driver {
		d, err := iocp.New()
		if err != nil {
			t.Fatal(err)
		}
		return d
	})
}

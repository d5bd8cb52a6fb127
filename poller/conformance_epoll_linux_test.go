package poller_test

import (
	"testing"

	"github.com/zokio/zokio/poller"
	"github.com/zokio/zokio/poller/pollertest"
)

func TestConformance(t *testing.T) {
	pollertest.Run(t, func(t *testing.T) poller.Driver {
		d, err := poller.NewEpoll(poller.EpollConfig{})
		if err != nil {
			t.Fatal(err)
		}
		return d
	})
}

//go:build !linux && !windows

package runtime

import (
	"github.com/zokio/zokio/poller"
	"github.com/zokio/zokio/runtime/driver"
)

func gettid() int { return 0 }

func (l *Loop) openDriver() (poller.Driver, driver.Decision, error) {
	return driver.Open(l.rt.opts.Driver, driver.Config{})
}

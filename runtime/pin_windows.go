package runtime

import (
	"golang.org/x/sys/windows"

	"github.com/zokio/zokio/poller"
	"github.com/zokio/zokio/runtime/driver"
)

// gettid identifies the calling OS thread; Windows thread IDs are never 0.
func gettid() int { return int(windows.GetCurrentThreadId()) }

// openDriver opens the loop's driver; there is no per-loop driver configuration on
// Windows (SQPOLL and rings are io_uring's).
func (l *Loop) openDriver() (poller.Driver, driver.Decision, error) {
	return driver.Open(l.rt.opts.Driver, driver.Config{})
}

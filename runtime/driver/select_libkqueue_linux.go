//go:build linux && libkqueue

package driver

import (
	"github.com/zokio/zokio/internal/testhook"
	"github.com/zokio/zokio/kqueue"
	"github.com/zokio/zokio/poller"
)

// In test builds with the libkqueue tag, Linux has the kqueue driver too (through
// libkqueue), so that ZOKIO_DRIVER=kqueue runs the runtime's suites on its logic.
func init() {
	newKqueue = func(cfg kqueue.Config, dec Decision) (poller.Driver, Decision, error) {
		d, err := kqueue.New(cfg)
		if err != nil {
			return nil, dec, err
		}
		return testhook.WrapDriver(d), dec, nil // as every driver Open returns
	}
}

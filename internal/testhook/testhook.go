// Package testhook lets this module's test binaries wrap every driver that package
// runtime/driver opens (package faultdriver's fault injection, selected by package
// testkit), without a knob in the library's public API: only packages inside the
// module can import it, and nothing outside tests sets the hook.
package testhook

import (
	"sync/atomic"

	"github.com/zokio/zokio/poller"
)

var wrap atomic.Pointer[func(poller.Driver) poller.Driver]

// SetDriverWrapper makes WrapDriver apply f to every driver opened from now on; nil
// removes it. Test binaries set it once, in TestMain, before any test runs.
func SetDriverWrapper(f func(poller.Driver) poller.Driver) {
	if f == nil {
		wrap.Store(nil)
		return
	}
	wrap.Store(&f)
}

// WrapDriver returns d, wrapped if a wrapper is set.
func WrapDriver(d poller.Driver) poller.Driver {
	if f := wrap.Load(); f != nil {
		return (*f)(d)
	}
	return d
}

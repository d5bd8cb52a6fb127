//go:build !linux

package driver_test

// prepareChild does nothing where the seccomp sandbox does not exist.
func prepareChild() {}

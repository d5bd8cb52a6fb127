//go:build !linux

package sqpoll

// prepareChild does nothing where the seccomp sandbox does not exist.
func prepareChild() {}

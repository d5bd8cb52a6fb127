// Package uring is Zokio's binding of the Linux io_uring ABI: the kernel
// structures and constants, ring setup and teardown, submission queue entry
// preparation, submission, completion reaping, resource registration and
// provided buffer rings. It is built on golang.org/x/sys/unix only, without
// cgo.
//
// The package is a thin, allocation-free layer. It does not own operations,
// buffers or goroutines; the driver above it does. user_data is opaque here:
// the driver stores a slot index and a generation in it.
//
// # Platforms
//
// Everything but this comment is Linux-only (files ending in _linux.go). On
// other systems the package is empty, so that `go list` and godoc still work.
// Features are detected with Probe, the feature bits of Params and errors
// from setup, never from the kernel version.
//
// # Concurrency
//
// A Ring is used only by the goroutine that owns it: none of its methods may
// run concurrently with another. A Ring set up with SetupSingleIssuer or
// SetupDeferTaskrun is further bound to the OS thread that created it: the
// kernel answers EEXIST when any other thread submits or waits. Such a ring's
// owner calls runtime.LockOSThread before New and keeps the thread locked for
// the life of the ring. RegisterRingFd binds enter calls to the registering
// thread in the same way.
//
// # Memory custody
//
// An SQE stores memory addresses as integers, which the Go garbage collector
// does not see. Every buffer, iovec array, msghdr, sockaddr, path, timespec
// or statx buffer named by an SQE must stay referenced by the caller, and
// unmoved (heap memory, or memory outside the Go heap), until the kernel has
// posted the operation's final completion: for multishot operations the one
// without CQEFlagMore, for SendZC the notification. With SetupSQPoll the
// kernel thread reads SQEs after Submit has returned, so "after Submit" is
// never early enough to release anything. Registered buffers and the
// buffers added to a BufRing stay in the kernel's custody until they are
// unregistered or handed back in a completion.
package uring

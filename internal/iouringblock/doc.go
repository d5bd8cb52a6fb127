// Package iouringblock installs a seccomp filter that makes io_uring unavailable to the
// whole process — io_uring_setup, io_uring_enter and io_uring_register fail with EPERM
// (as under Docker's default profile), ENOSYS (as on a kernel without io_uring), or
// kill the process (as some sandboxes do) — so that tests can prove, in a child
// process, how Zokio behaves there; Child runs a test binary's own tests in such a child.
// It is for tests only; Linux only.
package iouringblock

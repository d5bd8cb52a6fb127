// Package sqpoll decides whether and how a Zokio runtime's io_uring rings use a kernel
// submission thread (IORING_SETUP_SQPOLL), and configures each loop's ring for it.
//
// With SQPOLL the kernel runs a thread that polls the submission queue, so a loop
// hands work to the kernel by writing shared memory, without a system call, for as
// long as the thread is awake. The price is that thread: it spins on a CPU for Idle
// after its last work before it sleeps, and waking it costs a system call again.
// Whether that pays depends on the load and on how many CPUs there are to burn, which
// is why Off is the default.
//
// Three modes:
//
//   - Off: no SQ thread; every flush is an io_uring_enter.
//   - PerRing: one SQ thread per loop's ring, pinned to a CPU on the loop's NUMA node
//     (numa.Placement.SQCPU).
//   - Shared: one SQ thread for every ring of the runtime. The first ring is created
//     with SQPOLL and the others attach to it (IORING_SETUP_ATTACH_WQ), so the thread
//     polls them all in turn.
//
// Decide resolves the mode asked for (an option, or the environment variable
// ZOKIO_SQPOLL) against what the kernel allows: it probes by creating a tiny SQPOLL
// ring, and a second one attached to it. A refusal (EPERM under a seccomp profile or
// kernel.io_uring_disabled, ENOMEM, EINVAL on old kernels) falls back — Shared to
// PerRing, PerRing to Off — with the reason in the Decision, which `zokio info` shows.
// Config.Apply then fills each loop's uring.DriverConfig.
//
// The NEED_WAKEUP handshake (publish the SQ tail, then check whether the thread sleeps,
// and wake it) lives in package uring's submit path. So does the rule SQPOLL makes
// sharper: the kernel reads an SQE, and what it points to (iovecs, msghdr, sockaddr,
// timespec), some time after Submit returns, so all of it stays owned by the driver
// until the op's completion. This package's tests exercise both through real rings.
package sqpoll

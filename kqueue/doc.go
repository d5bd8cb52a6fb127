// Package kqueue is Zokio's driver for macOS, FreeBSD, NetBSD, OpenBSD and DragonFly:
// a [github.com/zokio/zokio/poller.Driver] on kqueue(2), built on the readiness core
// that the epoll driver also uses ([poller.Core]). The core keeps the Driver contract
// (per-descriptor FIFO queues, retries, timers, FlagLink chains, the file-op worker
// pool, buffer groups); this package adds what differs: registration, waiting and the
// wake.
//
//   - Registration: EVFILT_READ and EVFILT_WRITE, once per descriptor, with EV_CLEAR
//     (edge-triggered, as Go's netpoll and the epoll driver do). Changes are queued
//     and handed to the kernel at the next Wait, in one kevent call with EV_RECEIPT,
//     so a refused change fails the ops of its own descriptor only. State is keyed by
//     the descriptor number (Ident); Udata is never used.
//   - EV_EOF on the read filter is the peer's shutdown of its writing half (the core's
//     read-hangup path); its fflags carry the errno of a failed connect.
//   - Wake: an EVFILT_USER event triggered with NOTE_TRIGGER on macOS, FreeBSD and
//     DragonFly; a non-blocking pipe on NetBSD and OpenBSD, which lack EVFILT_USER.
//
// On Linux the package is empty, except under the test-only build tag libkqueue, where
// its kevent and kqueue calls go through cgo into libkqueue (a user-space kqueue on
// epoll), so that the driver's logic runs through the conformance suite on Linux.
package kqueue

// Package faultdriver wraps a real poller.Driver (io_uring or epoll) and injects
// faults from a seeded schedule, so that the layers above (the conformance suite, the
// runtime, znet, zfile) meet the results a real kernel may give them but seldom does
// on a quiet test machine: short reads and writes, delayed and reordered completions,
// cancellations racing real results, errors a completion may carry, and refused
// submissions. It is for tests only (docs/RELIABILITY.md, "The harness").
//
// Every injected fault is truthful: the wrapper never claims the kernel did what it
// did not.
//
//   - Short: a read, write, recv or send on a stream socket, a pipe or a regular file
//     gets a shorter buffer before it is submitted, so the kernel really moves fewer
//     bytes and Res says how many it moved. The caller's buffer is restored before its
//     Done runs. Datagram and seqpacket sockets, O_DIRECT files, special files,
//     fixed-file ops and link chains are never shortened.
//   - Delay: a completion is held back and delivered by a later Wait. Completions of
//     one descriptor stay in order (a multishot receive's data, an accept stream);
//     completions of different descriptors are released in a random order, so they
//     overtake each other. A close is never held: it goes at once, after the held
//     completions of its descriptor, since the kernel may hand its number to the
//     next accept or open.
//   - Cancel: the op is cancelled right after it is submitted; it ends with ECANCELED
//     or with its real result, whichever won.
//   - Errno: the op is not submitted at all and completes with an error a caller may
//     meet: EAGAIN or EINTR for socket and pipe I/O, ENOBUFS for a receive from a
//     buffer group. Nothing happened in the kernel, so nothing is lost.
//   - SubmitErr: Submit refuses the op with ENOMEM, EAGAIN or EBUSY, as a ring short
//     of memory or with a completion backlog would; the op never completes.
//
// Short and Delay are Transparent: the contract lets any driver produce them, so a
// correct layer above absorbs them and its tests pass unchanged. Cancel, Errno and
// SubmitErr are visible: a caller that did not ask for them sees an error, so only
// tests written to retry (this package's data-oracle tests) run with them. Faults
// inside a driver (EINTR, EAGAIN and EBUSY from io_uring_enter, short submits) are
// injected below the driver instead, by package uring's own tests.
//
// The schedule is drawn from a math/rand/v2 PCG seeded with Config.Seed; a run is
// reproducible as far as the kernel's timing is (the same ops in the same order get
// the same faults).
package faultdriver

// Package poller defines the contract between Zokio's runtime and its I/O drivers, and
// holds the epoll driver used on Linux systems where io_uring is missing or forbidden.
//
// # The contract
//
// A [Driver] accepts operations ([Op] values: an opcode and its arguments, as data) and
// later reports each one's result exactly once, by calling the op's Done function from
// inside [Driver.Wait]. A multishot op reports many results; every one but the last has
// [ResMore] set. Completion-based kernels (io_uring, IOCP) implement the contract
// natively; readiness-based ones (epoll, kqueue) emulate it: they try the syscall, wait
// for readiness when it would block, retry, and complete. File operations on readiness
// backends run on a small bounded worker pool whose completions come back through the
// same path.
//
// The promises every driver keeps, and that the conformance suite in package
// [github.com/zokio/zokio/poller/pollertest] checks, scenario for scenario:
//
//   - Exactly once: an op accepted by Submit (nil error) completes exactly once; a
//     multishot op ends with exactly one final completion (ResMore clear). An op that
//     Submit refuses never completes.
//   - Custody: everything an op points to (buffers, addresses, paths) stays referenced
//     by the driver, and is not touched by it after completion, until the op's final
//     completion, even after Cancel. The caller must not modify or reuse the op or its
//     buffers before then.
//   - Cancellation loses nothing: a cancelled op completes with ECANCELED or with its
//     real result (bytes read are reported; an accepted or opened descriptor is
//     delivered, never leaked).
//   - Close of a descriptor (OpClose) first cancels and drains every op the driver has in
//     flight on it; the number is released only after the last of them completed. Ops
//     submitted on a descriptor whose close is pending, and a second close of it,
//     complete with EBADF. Descriptors a driver has seen must be closed through OpClose:
//     drivers cache per-descriptor state (readiness registration, file kind), and a
//     number closed behind their back and reused can confuse them.
//   - Driver.Close completes every op still in flight before it returns: with ECANCELED,
//     or with its real result where that won the race (a file op already running in a
//     worker, an open that produced a descriptor). It waits for such running ops.
//   - Wake from any goroutine makes a concurrent or the next Wait return; wakeups are
//     never lost.
//   - Programming errors are refused by Submit, never completed: an op that no driver
//     would accept ([Validate]'s checks, and an OpRecv with FlagBufferSelect whose Group
//     names no group of the driver) gets an [*InvalidOpError] from every driver, an op
//     already in flight [ErrInFlight]. Conditions of the moment complete the op with an
//     errno instead: a group with no free buffer gives ENOBUFS.
//
// # Arguments and results on every system
//
// An op's integer arguments use poller's portable names (PollIn, MsgWaitAll,
// SockCloexec, AtFDCWD, AtRemoveDir, OpenCreate, ShutWr, StatxBasicStats, ...; see
// args.go): on Linux they equal the kernel's constants, elsewhere each driver maps them
// to its system's calls. OpStatx fills a [Statx], Linux's struct statx layout, on every
// system.
//
// A completion's Res, when negative, is a negated [syscall.Errno] (see [Op.Err]). The
// outcomes the contract itself defines are syscall's values on every system, whatever
// the driver: ECANCELED (cancelled, or closed), [ETIME] (a timeout), ENOBUFS (a buffer
// group ran dry), EBADF (an op on a descriptor whose OpClose is pending). Failures the
// system reports are its own errors: an errno on Unix; on Windows a Win32 or WinSock
// error code (NTSTATUS values translated to Win32 ones), for which syscall.Errno's Is
// method answers os.ErrNotExist, os.ErrExist and the like.
//
// # Threading
//
// A Driver is used only by the goroutine that created it (the loop that owns it), with
// one exception: Wake is safe for concurrent use by multiple goroutines. Drivers that
// bind to an OS thread (io_uring with SINGLE_ISSUER) require that goroutine to have
// called runtime.LockOSThread before creating the driver.
package poller

// Package zfile is Zokio's file API: files whose reads, writes, syncs and metadata
// operations run through a runtime's I/O driver (io_uring, or epoll's worker pool) instead
// of blocking one OS thread per call as *os.File does.
//
// # Runtime and loop
//
// Every function takes the *runtime.Runtime explicitly; there is no hidden default
// runtime, so a program decides when the runtime starts and stops and nothing outlives
// it. A File is bound at open to one loop of that runtime, its home loop: by default
// the one its descriptor number hashes to (fd mod the number of loops), which spreads
// files evenly; OpenOptions.Loop picks one. Calls from any goroutine park the caller
// until the kernel is done (Loop.Do); requests from many goroutines that reach a loop
// within one of its turns go to the kernel in one io_uring_enter.
//
// Close the files before the runtime. A File whose runtime has closed still closes its
// descriptor (with close(2) directly), so nothing leaks either way; until then, its
// methods that need the driver fail with errors that match os.ErrClosed.
//
// # The fast path
//
// A read of data that is already in the page cache is a memory copy: a ring round trip
// costs more than the read. So on Linux ReadAt, Read and their variants first try the read
// from the calling goroutine with preadv2(RWF_NOWAIT), which succeeds only if it does
// not have to wait for the device, and go to the ring only when the kernel answers
// EAGAIN. Since that call cannot wait for the device, it is made (up to 64 KiB) as a
// raw system call, without the scheduler hand-off a blocking call needs: that
// hand-off alone costs more than the fast path's gap to os.File. Files opened with
// O_DIRECT skip the attempt (it always fails: a direct read
// must wait for the device), and a file whose file system refuses RWF_NOWAIT
// (EOPNOTSUPP) stops trying after the first refusal. Writes have no fast path: ext4,
// the file system this was measured on, refuses RWF_NOWAIT for buffered writes (see
// bench/README.md).
//
// # Semantics
//
// File follows *os.File: the same results, the same EOF and short-count rules
// (ReadAt returns a non-nil error whenever n < len(p), io.EOF at the end of the file),
// and errors of the same shape: *os.PathError with the operation and path os would
// name, wrapping the syscall.Errno, os.ErrClosed after Close, or the context's error
// when a context ended the call. A table test runs the same operations against both.
//
// # Buffers
//
// The kernel writes into the caller's buffer while the caller is parked, or, with
// the loop-level and batch APIs, while the caller goes on running. The buffer must
// therefore neither move nor be freed meanwhile. Go's heap never moves objects, and
// every in-flight op holds its buffer through the op, which the loop's driver keeps
// in its in-flight table until the final completion; so a heap buffer is safe.
// A buffer on a goroutine's stack would not be (the stack moves when it grows), and
// none reaches the kernel: every method stores its buffer in a heap-allocated op, so
// the compiler's escape analysis allocates any buffer passed to them on the heap
// (the same holds for any io.Reader called through an interface). Reuse buffers, or
// take them from an Arena, to allocate nothing per call.
//
// # Registered files and buffers
//
// OpenOptions.Fixed installs the descriptor in its home loop's registered file table
// (one table per loop, slots reused), sparing the kernel a descriptor lookup per op.
// An Arena is a per-loop block of aligned buffers mapped outside the Go heap and
// registered with the loop's ring, used with READ_FIXED and WRITE_FIXED whenever a
// read or write on that loop passes one of its buffers. Both are io_uring features;
// on epoll a fixed file is a plain descriptor and an Arena a plain mapping, and the
// reports (File.Fixed, Arena.Registered) say so. AlignedBuffer returns buffers from
// the Go heap aligned for O_DIRECT.
//
// # Three ways to call
//
//   - From any goroutine: File's methods, which park the caller.
//   - From code running on a loop: File.ReadAtOn and File.WriteAtOn, which call a
//     function on the loop when the op completes and allocate nothing in steady state.
//   - Many ops at once: a Batch hands reads, writes and syncs (optionally linked into
//     chains, such as a write then an fsync) to a loop in one step and reports each
//     completion or waits for all. WriteBehind drives two Batches to stream a log:
//     several writes in flight and each fsync overlapped with the writes after it.
//
// # Platforms
//
// The package builds everywhere; it does real work where the runtime has a driver:
// Linux, macOS, FreeBSD, NetBSD, OpenBSD, DragonFly (one Unix system layer) and
// Windows. Elsewhere runtime.New fails, and every function here that gets a runtime
// or loop anyway reports an error wrapping errors.ErrUnsupported (AlignedBuffer
// works everywhere).
//
// What differs on macOS and the BSDs, where the kqueue driver runs file operations on
// its worker pool:
//
//   - No page-cache fast path: they have no read that fails instead of waiting for
//     the device (RWF_NOWAIT), so every read goes to the driver.
//   - O_DIRECT exists on FreeBSD, NetBSD and DragonFly; macOS and OpenBSD have no
//     such open flag (macOS has fcntl's F_NOCACHE, which a caller can set on Fd).
//   - Sync is os.File.Sync's: F_FULLFSYNC on macOS (the drive's cache too), fsync
//     elsewhere.
//   - Allocate and Fallocate fail with a *os.PathError around EOPNOTSUPP, which
//     matches errors.ErrUnsupported: these systems have no fallocate with Linux's
//     modes.
//   - Stat is fstatat decoded by the driver; the result's Sys is the system's
//     *syscall.Stat_t, as os gives it, without the birth time.
//   - Registered files (OpenOptions.Fixed) are io_uring's: files keep their plain
//     descriptor and Fixed reports false.
package zfile

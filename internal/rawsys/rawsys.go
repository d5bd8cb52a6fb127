// Package rawsys holds the one rule the runtime's raw system calls share.
//
// A system call made with unix.Syscall enters and leaves the scheduler's system-call
// state, so that the scheduler can hand the thread's P to other goroutines if the call
// blocks; on this project's development machine that costs 0.1–0.2 µs per call
// (poller's BenchmarkSocketCall, zfile's BenchmarkReadAt4K), as much as a cached 4 KiB
// read's gap to os.File. Calls that cannot wait — a read with RWF_NOWAIT, a socket call
// with MSG_DONTWAIT — are made raw instead (unix.RawSyscall), but only while they copy
// at most MaxCopy bytes: the copy then takes a few microseconds, well under the 20 µs
// after which the scheduler would hand a blocked thread's P on, so a raw call never
// holds a P longer than ordinary Go code touching memory would.
package rawsys

// MaxCopy is the most bytes a raw system call may copy.
const MaxCopy = 64 << 10

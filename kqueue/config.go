package kqueue

// Config configures New. The zero value gives the defaults.
type Config struct {
	// Workers is the number of goroutines that run file and path ops. They start
	// with the first such op and exit in Close. 0 means 4.
	Workers int
	// MaxQueuedFileOps bounds the file ops handed to the workers and not yet
	// completed; more wait inside the driver, in submission order. 0 means 64.
	MaxQueuedFileOps int
	// MaxEvents is the number of events one kevent wait can return. 0 means 256.
	MaxEvents int
	// MaxCompletionsPerWait bounds the completions one Wait delivers. 0 means 256.
	MaxCompletionsPerWait int
	// MaxAttemptsPerFd bounds the syscalls one Wait makes for one descriptor in one
	// direction, so one busy connection cannot starve the others. 0 means 16.
	MaxAttemptsPerFd int
}

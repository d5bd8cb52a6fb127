package poller

// Stats counts what a driver did, for diagnostics and for the runtime's per-loop
// counters. Drivers that keep counters implement StatsReporter.
type Stats struct {
	Submitted   uint64 // ops accepted by Submit
	Completions uint64 // completions delivered to Done
	Enters      uint64 // system calls that submit or wait (io_uring_enter, epoll_wait)
	Wakeups     uint64 // Wake signals consumed by the owner
	Overflows   uint64 // times the driver found completions parked on the kernel's CQ overflow list and flushed them (io_uring)
	Rearms      uint64 // multishot ops the driver re-armed after the kernel ended them
	Stale       uint64 // completions dropped because their op had moved on
}

// StatsReporter is implemented by drivers that keep Stats. Like the rest of a
// Driver, Stats is called only by the driver's owner.
type StatsReporter interface {
	Stats() Stats
}

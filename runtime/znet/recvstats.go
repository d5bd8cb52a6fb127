package znet

import "github.com/zokio/zokio/runtime"

// RecvStats counts what the event API's multishot receives did on one loop, for
// diagnosing how a loop's receive group holds up under load: how often a receive
// ended and had to be submitted again, and why. The counters are plain fields
// bumped on the loop where the events happen; nothing is allocated or shared.
type RecvStats struct {
	Pieces uint64 `json:"pieces"` // received pieces (completions carrying a buffer), each handed to OnData or dropped by a closing connection
	Bytes  uint64 `json:"bytes"`  // bytes in those pieces
	Arms   uint64 `json:"arms"`   // multishot receives submitted: a connection's first, and every re-arm
	Ends   uint64 `json:"ends"`   // final completions of those receives (ENOBUFS, EOF, errors, cancellations)
	NoBufs uint64 `json:"nobufs"` // ends with ENOBUFS: the group had no free buffer when data came in
	// Starved counts the ENOBUFS ends that found every buffer retained by handlers,
	// so the connection waited for one to come back before it was re-armed.
	Starved uint64 `json:"starved"`
	// Grows counts the groups this loop made because one ran dry under pressure:
	// as many receives ended with ENOBUFS as it has buffers. Connections move to
	// the larger group (twice the buffers, up to 64 MiB of them) as they re-arm.
	Grows uint64 `json:"grows"`
}

// add adds o's counters to s's.
func (s *RecvStats) add(o RecvStats) {
	s.Pieces += o.Pieces
	s.Bytes += o.Bytes
	s.Arms += o.Arms
	s.Ends += o.Ends
	s.NoBufs += o.NoBufs
	s.Starved += o.Starved
	s.Grows += o.Grows
}

// LoopRecvStats returns the receive counters of the event API's connections on
// loop l since it started, summed over its receive groups (one per buffer size in
// use). It must be called on l, from a task posted to it (runtime.Loop.Post):
// the counters are l's alone.
func LoopRecvStats(l *runtime.Loop) RecvStats {
	var s RecvStats
	for _, g := range netOf(l).groups {
		s.add(g.stats)
	}
	return s
}

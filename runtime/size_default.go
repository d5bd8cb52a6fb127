//go:build !zokio_smallq

package runtime

// Capacities of the scheduling primitives. The zokio_smallq build tag swaps in tiny ones
// (size_smallq.go) so that tests reach ring wrap-around, overflow and steal paths often.
const (
	// runqSize is the number of slots in a loop's stealable ring (runq). It is a power of
	// two; Go's runtime uses 256 for the same structure.
	runqSize = 256

	// dequeMinCap is the capacity a taskDeque starts with when it first grows.
	dequeMinCap = 64

	// freeListMax bounds a loop's task free list. Tasks beyond it are left to the GC, so
	// a burst of posts from other goroutines does not pin memory forever.
	freeListMax = 4096

	// inboxDrainMax is a suggested bound for one inbox drain per tick (RELIABILITY C6).
	inboxDrainMax = 256
)

//go:build zokio_smallq

package runtime

// Tiny capacities for tests: see size_default.go for what each constant means. With 8
// runq slots, a handful of pushes wraps the ring and overflows it, and every steal races
// with the owner's reuse of the slots it reads.
const (
	runqSize      = 8
	dequeMinCap   = 2
	freeListMax   = 4
	inboxDrainMax = 3
)

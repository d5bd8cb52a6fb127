package runtime

import (
	goruntime "runtime"
	"strconv"
)

// curGoroutine returns the calling goroutine's number, read from the first line of
// its stack trace ("goroutine 18 [running]:"). It is slow (a stack trace), so it
// serves only rare calls that must know whether they run on an unlocked loop, whose
// goroutine no OS thread names (Loop.runOn). It returns 0 if the line cannot be read,
// which matches no loop.
func curGoroutine() uint64 {
	var buf [64]byte
	b := buf[:goruntime.Stack(buf[:], false)]
	const prefix = "goroutine "
	if len(b) < len(prefix) || string(b[:len(prefix)]) != prefix {
		return 0
	}
	b = b[len(prefix):]
	n := 0
	for n < len(b) && b[n] >= '0' && b[n] <= '9' {
		n++
	}
	id, err := strconv.ParseUint(string(b[:n]), 10, 64)
	if err != nil {
		return 0
	}
	return id
}

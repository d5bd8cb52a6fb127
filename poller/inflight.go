package poller

import (
	"fmt"
	"io"
)

// InFlightOp describes one op in a driver's in-flight table, for diagnostics: a test
// that times out prints what the driver still holds, and why.
type InFlightOp struct {
	Slot  int32   // the driver's table index
	Gen   uint32  // the slot's generation (user_data on io_uring carries it)
	State string  // where the op is, in the driver's words ("submitted", "queued", ...)
	Code  Opcode  // what it is
	Fd    int     // the descriptor (or fixed-file index) it works on
	Flags OpFlags // its flags
}

func (o InFlightOp) String() string {
	return fmt.Sprintf("slot %d gen %d %s: %v fd %d flags %#x", o.Slot, o.Gen, o.State, o.Code, o.Fd, uint32(o.Flags))
}

// InFlightReporter is implemented by drivers that can list their in-flight table. Call
// InFlight only from the goroutine that owns the driver (the one that calls Wait), or
// while no Wait runs: it reads the table without locks. It appends to dst and returns
// it, in slot order.
type InFlightReporter interface {
	InFlight(dst []InFlightOp) []InFlightOp
}

// DumpInFlight writes d's in-flight table to w, one op per line, and returns how many
// ops it listed; for a driver that cannot list its table it writes a line saying so.
// The same ownership rule as InFlightReporter.InFlight applies.
func DumpInFlight(w io.Writer, d Driver) int {
	r, ok := d.(InFlightReporter)
	if !ok {
		fmt.Fprintf(w, "in-flight table: %T cannot list it\n", d)
		return 0
	}
	ops := r.InFlight(nil)
	fmt.Fprintf(w, "in-flight table: %d op(s)\n", len(ops))
	for _, o := range ops {
		fmt.Fprintf(w, "  %v\n", o)
	}
	return len(ops)
}

package sqpoll_test

import (
	"fmt"

	"github.com/zokio/zokio/sqpoll"
)

// ParseMode reads a mode as ZOKIO_SQPOLL and command-line flags spell it.
func ExampleParseMode() {
	for _, s := range []string{"off", "per-ring", "SHARED", "sometimes"} {
		m, err := sqpoll.ParseMode(s)
		fmt.Println(m, err)
	}
	// Output:
	// off <nil>
	// per-ring <nil>
	// shared <nil>
	// default sqpoll: unknown mode "sometimes" (want off, per-ring or shared)
}

// Decide with Off never touches the kernel; asked for an SQ thread, it probes and
// either grants it or falls back to Off with the reason.
func ExampleDecide() {
	_, d, err := sqpoll.Decide(sqpoll.Config{Mode: sqpoll.Off})
	fmt.Println(d.Mode, d.Probed, err)

	cfg, d, err := sqpoll.Decide(sqpoll.Config{Mode: sqpoll.PerRing})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cfg.Mode == d.Mode, d.Mode == sqpoll.PerRing || d.Err != nil)
	// Output:
	// off false <nil>
	// true true
}

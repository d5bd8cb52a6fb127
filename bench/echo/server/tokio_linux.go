package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"syscall"

	"github.com/zokio/zokio/bench/echo/tokio"
)

// tokioWorkers is -impl=tokio's runtime: 0 the current-thread runtime, N the
// multi-thread runtime with N workers.
var tokioWorkers = flag.Int("tokio-workers", 0, "-impl=tokio: 0 for Tokio's current-thread runtime, N for its multi-thread runtime with N workers")

// runTokio runs the Tokio echo server (package tokio): it builds the program, or
// finds it built, and execs it in place of this process, as runCRef does for the C
// references; the Tokio server speaks the runner's protocol itself.
func runTokio(o options) error {
	path, err := tokio.Build()
	if err != nil {
		return err
	}
	if *tokioWorkers < 0 {
		return fmt.Errorf("-tokio-workers=%d: want 0 or more", *tokioWorkers)
	}
	if o.cpuprofile != "" {
		fmt.Fprintln(os.Stderr, "server: -impl=tokio: no -cpuprofile for the Rust server (profile it with perf)")
	}
	args := []string{path, "-a", o.addr, "-w", strconv.Itoa(*tokioWorkers)}
	return syscall.Exec(path, args, os.Environ())
}

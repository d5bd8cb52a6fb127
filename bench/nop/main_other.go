//go:build !linux

// Command nop compares NOP submit-and-reap throughput of io_uring bindings;
// io_uring exists only on Linux, so elsewhere it says so and exits.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "nop: io_uring benchmarks run only on Linux")
	os.Exit(1)
}

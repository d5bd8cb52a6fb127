//go:build !linux

// Command load is the echo benchmark's load generator; it is built on epoll and
// /proc, so elsewhere it says so and exits.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "load: the echo benchmark runs only on Linux")
	os.Exit(1)
}

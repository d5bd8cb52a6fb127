//go:build !linux

// Command sendfile compares io.Copy of a file to a connection on znet (copy and
// splice) and on Go's net; splice is Linux's, so elsewhere it says so and exits.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "sendfile: the benchmark runs only on Linux")
	os.Exit(1)
}

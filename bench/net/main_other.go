//go:build !linux

// Command net runs bench/net's networking measurements; they need Linux.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "bench/net needs Linux")
	os.Exit(1)
}

//go:build !linux

// Command echo compares TCP echo servers on Zokio's drivers with gnet and Go's
// net; its contenders and measurements are Linux-only, so elsewhere it says so
// and exits.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "echo: the echo benchmark runs only on Linux")
	os.Exit(1)
}

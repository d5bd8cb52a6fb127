//go:build !linux

// Command file compares file I/O through Zokio with os.File and fio; Zokio's file
// layer runs only on Linux so far, so elsewhere it says so and exits.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "file: the file benchmarks run only on Linux")
	os.Exit(1)
}

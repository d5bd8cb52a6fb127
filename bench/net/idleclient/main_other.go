//go:build !linux

package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "this bench/net program needs Linux")
	os.Exit(1)
}

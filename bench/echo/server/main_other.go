//go:build !linux

// Command server is the echo benchmark's server; its io_uring and epoll
// contenders exist only on Linux, so elsewhere it says so and exits.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "server: the echo benchmark runs only on Linux")
	os.Exit(1)
}

package main

import (
	"fmt"
	"os"
	"strconv"
	"syscall"

	"github.com/zokio/zokio/bench/echo/cref"
)

// runCRef runs a C reference server (package cref): it compiles the program, or
// finds it compiled, and execs it in place of this process. The pid the runner
// watches, and reads the CPU time of, is then the C server's own, with the CPU
// mask, stdin and stdout this process had; the C server speaks the runner's
// protocol itself ("ready", "mark", "stats"). -addr goes to both programs;
// -entries, -buffers and -bufsize to c-uring (0: its defaults, 1024 SQ entries
// and 2048 × 32 KiB buffers).
func runCRef(o options) error {
	path, err := cref.Build(o.impl)
	if err != nil {
		return err
	}
	args := []string{path, "-a", o.addr}
	if o.impl == "c-uring" {
		for _, f := range []struct {
			flag string
			v    int
		}{{"-e", int(o.entries)}, {"-b", o.buffers}, {"-s", o.bufSize}} {
			if f.v > 0 {
				args = append(args, f.flag, strconv.Itoa(f.v))
			}
		}
	}
	if o.cpuprofile != "" {
		fmt.Fprintf(os.Stderr, "server: -impl=%s: no -cpuprofile for a C server (profile it with perf)\n", o.impl)
	}
	return syscall.Exec(path, args, os.Environ())
}

// Command zokio is the first thing to run on a new machine: `zokio info` tells which I/O
// driver the runtime gets here and why, with the kernel features, limits and CPUs
// behind that decision, the NUMA topology and the placement plan loops would get, and
// whether SQPOLL rings (per ring or shared) are allowed.
//
// Usage:
//
//	zokio info [--json] [--loops N] [--strategy spread|pack]
//	                         which driver this machine gets, and why
//
// The demo servers `zokio echo` and `zokio http` (see `zokio -h`) run wherever the
// runtime has a driver: Linux (io_uring or epoll), macOS and the BSDs (kqueue) and
// Windows (IOCP).
//
// The environment variable ZOKIO_DRIVER=uring|epoll|kqueue|iocp forces a driver; with epoll, info
// does not call io_uring_setup at all (some sandboxes kill a process that does).
// ZOKIO_SQPOLL=off|per-ring|shared chooses the SQPOLL mode (package sqpoll).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

type command struct {
	name    string
	summary string
	run     func(args []string, stdout io.Writer) error
}

var commands []command

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		return 0
	}
	for _, c := range commands {
		if c.name == args[0] {
			err := c.run(args[1:], stdout)
			var bad badFlagError
			switch {
			case err == nil, errors.Is(err, flag.ErrHelp):
				return 0 // -h printed the command's flags: help is no failure
			case errors.As(err, &bad):
				return 2 // the flag package has already said what was wrong, as go's tools do
			default:
				fmt.Fprintf(stderr, "zokio %s: %v\n", c.name, err)
				return 1
			}
		}
	}
	fmt.Fprintf(stderr, "zokio: unknown command %q\n", args[0])
	usage(stderr)
	return 2
}

// badFlagError is a command line that its flag set refused (and already explained).
type badFlagError struct{ err error }

func (e badFlagError) Error() string { return e.err.Error() }
func (e badFlagError) Unwrap() error { return e.err }

// parseFlags parses args with fs, marking a refusal other than -h as a bad command line.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil && !errors.Is(err, flag.ErrHelp) {
		return badFlagError{err}
	} else if err != nil {
		return err
	}
	return nil
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: zokio <command> [flags]")
	fmt.Fprintln(w)
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'zokio <command> -h' for a command's flags.")
}

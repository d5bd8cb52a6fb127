//go:build !linux

package main

import (
	"runtime"

	"github.com/zokio/zokio/runtime/driver"
)

var setupOrder []string

// gatherPlatform fills what this platform can tell cheaply: the CPU count.
func gatherPlatform(r *infoReport, _ driver.Decision) {
	for i := 0; i < runtime.NumCPU(); i++ {
		r.CPUs = append(r.CPUs, i)
	}
}

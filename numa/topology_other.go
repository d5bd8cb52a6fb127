//go:build !linux

package numa

import (
	"errors"
	"fmt"
	"runtime"
)

// Read returns one node holding CPUs 0 to runtime.NumCPU()-1: this system exposes no
// NUMA layout or affinity mask to Zokio.
func Read() (*Topology, error) {
	cpus := make(CPUList, runtime.NumCPU())
	for i := range cpus {
		cpus[i] = i
	}
	t := &Topology{
		Nodes:  []Node{{ID: 0, CPUs: cpus, Memory: true}},
		Online: cpus, Possible: cpus, Offline: CPUList{},
		Source: "one node (" + runtime.GOOS + " exposes no NUMA topology to Zokio)",
	}
	t.restrict()
	return t, nil
}

// Affinity returns CPUs 0 to runtime.NumCPU()-1: this system's affinity mask is not
// read.
func Affinity() (CPUList, error) {
	t, _ := Read()
	return t.Online, nil
}

// ErrNotMapped is returned by Bind for memory that is empty.
var ErrNotMapped = errors.New("numa: memory to bind must be page-aligned memory from mmap")

// Bind does nothing for node 0, the only node this system reports, and returns an
// error for any other node.
func Bind(mem []byte, node int, p Policy) error {
	if len(mem) == 0 {
		return ErrNotMapped
	}
	if node != 0 {
		return fmt.Errorf("numa: node %d does not exist (one node on %s)", node, runtime.GOOS)
	}
	return nil
}

package numa_test

import (
	"fmt"
	"os"

	"github.com/zokio/zokio/numa"
)

// ParseCPUList reads the kernel's list format, as sysfs and cgroup files print it.
func ExampleParseCPUList() {
	l, err := numa.ParseCPUList("0-3,8,10-11\n")
	fmt.Println([]int(l), err)
	fmt.Println(l)
	// Output:
	// [0 1 2 3 8 10 11] <nil>
	// 0-3,8,10-11
}

// ParseDistances reads one row of the node distance table.
func ExampleParseDistances() {
	d, err := numa.ParseDistances("10 21\n")
	fmt.Println(d, err)
	// Output: [10 21] <nil>
}

// ReadFS describes a machine from a copy of its files: here a two-socket server with
// SMT, from this package's test data.
func ExampleReadFS() {
	top, err := numa.ReadFS(os.DirFS("testdata/two-socket"), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(top)
	// Output:
	// 2 nodes; CPUs online 0-31, offline none, possible 0-31 (from sysfs)
	// allowed 0-31 = online ∩ cpuset 0-31 (/sys/fs/cgroup/cpuset.cpus.effective)
	// node  cpus        allowed     cores  memory  distances
	// 0     0-7,16-23   0-7,16-23   8      yes     10 21
	// 1     8-15,24-31  8-15,24-31  8      yes     21 10
}

// Plan places four loops on the two-socket server: spread over both sockets, one per
// physical core, each with a spare CPU of its own node for its ring's SQ thread.
func ExampleTopology_Plan() {
	top, err := numa.ReadFS(os.DirFS("testdata/two-socket"), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	plan, err := top.Plan(numa.PlanOptions{Loops: 4, Strategy: numa.Spread})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(plan)
	// Output:
	// spread: 4 loops on 2 nodes; arenas preferred on their loop's node
	// loop  cpu  node  mem-node  sq-cpu
	// 0     0    0     0         2
	// 1     8    1     1         10
	// 2     1    0     0         3
	// 3     9    1     1         11
}

// A container limited to a cpuset gets loops on its cpuset's CPUs only, whatever the
// host has.
func ExampleTopology_Plan_container() {
	top, err := numa.ReadFS(os.DirFS("testdata/container"), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	plan, err := top.Plan(numa.PlanOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(top.Allowed, plan.CPUs())
	// Output: 2-3,6 [2 3 6]
}

// Read tells what this machine offers; every system has at least one node and one
// allowed CPU.
func ExampleRead() {
	top, err := numa.Read()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(top.Nodes) >= 1, len(top.Allowed) >= 1)
	// Output: true true
}

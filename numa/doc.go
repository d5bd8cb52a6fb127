// Package numa tells a Zokio runtime where its loops should run and where their memory
// should live: the machine's NUMA nodes, their CPUs and distances, the CPUs this process
// may use (online CPUs, intersected with its affinity mask and its cgroup cpuset), and a
// placement plan that gives every loop a CPU, a node, and a CPU on that node for its
// ring's kernel submission thread (package sqpoll).
//
// On Linux the topology comes from sysfs (/sys/devices/system/node and
// /sys/devices/system/cpu), the cgroup cpuset from /proc/self/cgroup and the cgroup
// mounts, the affinity mask from sched_getaffinity. Every file is read through an
// fs.FS, so ReadFS describes any machine from a copy of its files: the tests use trees
// for a two-socket server, a four-node machine with distances, a machine with offline
// CPUs and a container limited to a cpuset. Other systems report one node holding
// every CPU.
//
// Three actions follow a plan. PinThread binds a loop's locked OS thread to its CPU.
// The SQ thread of the loop's ring goes on Placement.SQCPU, a CPU of the same node.
// Bind (through Plan.BindArena) applies mbind(2) to a loop's buffer arena, memory mapped
// outside the Go heap, so that its pages come from the loop's node; on a single node
// there is nothing to bind and it does nothing.
package numa

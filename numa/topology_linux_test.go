package numa

import (
	"errors"
	"os"
	"runtime"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

func TestReadLive(t *testing.T) {
	top, err := Read()
	if err != nil {
		t.Fatal(err)
	}
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		t.Fatal(err)
	}
	if len(top.Affinity) != set.Count() {
		t.Fatalf("affinity %s, sched_getaffinity counts %d", top.Affinity, set.Count())
	}
	for _, c := range top.Allowed {
		if !set.IsSet(c) || !top.Online.Contains(c) || top.NodeOf(c) < 0 {
			t.Errorf("allowed CPU %d: in mask %v, online %v, node %d", c, set.IsSet(c), top.Online.Contains(c), top.NodeOf(c))
		}
	}
	t.Logf("this machine:\n%s", top)
}

// TestPinThread pins a locked goroutine's thread and lets the goroutine end locked, as
// the runtime's loops do: Go then ends the thread instead of reusing its narrowed mask.
func TestPinThread(t *testing.T) {
	top, err := Read()
	if err != nil {
		t.Fatal(err)
	}
	cpu := top.Allowed[len(top.Allowed)-1]
	type result struct {
		got CPUList
		err error
	}
	done := make(chan result)
	go func() {
		runtime.LockOSThread()
		// Never unlocked: this thread's mask changes, so it must die with the goroutine.
		if err := PinThread(cpu); err != nil {
			done <- result{err: err}
			return
		}
		got, err := Affinity()
		done <- result{got, err}
	}()
	r := <-done
	if r.err != nil || r.got.String() != NewCPUList(cpu).String() {
		t.Fatalf("after PinThread(%d): affinity %v, %v", cpu, r.got, r.err)
	}
	// This goroutine's thread is untouched.
	if mine, err := Affinity(); err != nil || mine.String() != top.Affinity.String() {
		t.Fatalf("the test's own thread changed: %v, %v", mine, err)
	}
	if err := PinThread(-1); err == nil {
		t.Error("PinThread(-1) succeeded")
	}
}

func TestPinThreadRefused(t *testing.T) {
	done := make(chan error)
	go func() {
		runtime.LockOSThread()
		// The kernel refuses a mask with no allowed CPU and leaves the old one, so the
		// thread could be unlocked; the loop never does, and neither does this test.
		done <- PinThread(MaxCPU)
	}()
	if err := <-done; !errors.Is(err, unix.EINVAL) {
		t.Fatalf("PinThread(%d) = %v, want EINVAL", MaxCPU, err)
	}
}

// mapArena maps anonymous memory outside the Go heap, as a loop's arena is.
func mapArena(t *testing.T, size int) []byte {
	t.Helper()
	mem, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = unix.Munmap(mem) })
	return mem
}

// memPolicy reads back the policy of the page at addr and the node its page lives on
// (get_mempolicy with MPOL_F_ADDR, then MPOL_F_NODE|MPOL_F_ADDR).
func memPolicy(t *testing.T, addr *byte) (mode int, nodes uint64, node int) {
	t.Helper()
	const mpolFNode, mpolFAddr = 1, 2
	var mask [16]uint64
	// SAFETY: mode and mask are live for the call; the kernel writes them before
	// returning. addr is only an address to look up.
	_, _, e := unix.Syscall6(unix.SYS_GET_MEMPOLICY, uintptr(unsafe.Pointer(&mode)), uintptr(unsafe.Pointer(&mask[0])),
		uintptr(len(mask)*64), uintptr(unsafe.Pointer(addr)), mpolFAddr, 0)
	if e != 0 {
		t.Fatalf("get_mempolicy: %v", e)
	}
	// SAFETY: as above.
	_, _, e = unix.Syscall6(unix.SYS_GET_MEMPOLICY, uintptr(unsafe.Pointer(&node)), 0, 0,
		uintptr(unsafe.Pointer(addr)), mpolFNode|mpolFAddr, 0)
	if e != 0 {
		t.Fatalf("get_mempolicy(MPOL_F_NODE): %v", e)
	}
	return mode, mask[0], node
}

// skipIfRefused skips when the sandbox forbids mbind: that is a property of the host,
// not a bug, and the reason is printed.
func skipIfRefused(t *testing.T, err error) {
	t.Helper()
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.ENOSYS) {
		t.Skipf("mbind is not allowed here (%v): a seccomp profile or a kernel without NUMA support", err)
	}
}

// TestBindThisMachine binds an arena to node 0, which every Linux machine has, with
// both policies, touches it and reads the policy and the page's node back.
func TestBindThisMachine(t *testing.T) {
	for _, c := range []struct {
		p    Policy
		mode int
	}{{Preferred, mpolPreferred}, {Strict, mpolBind}} {
		mem := mapArena(t, 1<<20)
		err := Bind(mem, 0, c.p)
		skipIfRefused(t, err)
		if err != nil {
			t.Fatalf("Bind(node 0, %v): %v", c.p, err)
		}
		for i := 0; i < len(mem); i += os.Getpagesize() {
			mem[i] = 1 // fault every page in under the policy
		}
		mode, nodes, node := memPolicy(t, &mem[len(mem)/2])
		if mode != c.mode || nodes != 1 || node != 0 {
			t.Fatalf("%v: policy %d nodes %#x page on node %d; want %d, node 0", c.p, mode, nodes, node, c.mode)
		}
	}
}

func TestBindErrors(t *testing.T) {
	mem := mapArena(t, 1<<16)
	if err := Bind(mem[1:], 0, Preferred); !errors.Is(err, ErrNotMapped) {
		t.Errorf("unaligned: %v", err)
	}
	if err := Bind(nil, 0, Preferred); !errors.Is(err, ErrNotMapped) {
		t.Errorf("empty: %v", err)
	}
	if err := Bind(mem, -1, Preferred); err == nil {
		t.Error("node -1 accepted")
	}
	top, err := Read()
	if err != nil {
		t.Fatal(err)
	}
	missing := top.Nodes[len(top.Nodes)-1].ID + 1
	err = Bind(mem, missing, Strict)
	skipIfRefused(t, err)
	if !errors.Is(err, unix.EINVAL) {
		t.Errorf("Bind to node %d, which does not exist: %v, want EINVAL", missing, err)
	}
}

// TestBindArenaMultiNodePlan runs a plan made for the two-socket machine on this one:
// BindArena must really call mbind there (it succeeds for node 0, which exists here,
// and fails for node 1 where this machine has one node).
func TestBindArenaMultiNodePlan(t *testing.T) {
	p, err := machine(t, "two-socket", nil).Plan(PlanOptions{Loops: 2})
	if err != nil {
		t.Fatal(err)
	}
	mem := mapArena(t, 1<<16)
	err = p.BindArena(0, mem) // loop 0: node 0
	skipIfRefused(t, err)
	if err != nil {
		t.Fatalf("BindArena(loop 0, node 0): %v", err)
	}
	top, err := Read()
	if err != nil {
		t.Fatal(err)
	}
	if top.Node(1) == nil {
		if err := p.BindArena(1, mem); !errors.Is(err, unix.EINVAL) { // loop 1: node 1
			t.Fatalf("BindArena(loop 1, node 1) on a machine without node 1: %v, want EINVAL", err)
		}
	}
}

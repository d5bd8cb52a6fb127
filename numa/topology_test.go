package numa

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

// machine reads one of the testdata trees: testdata/NAME is the root of a machine's
// file system, holding only the files this package reads.
func machine(t *testing.T, name string, affinity CPUList) *Topology {
	t.Helper()
	top, err := ReadFS(os.DirFS("testdata/"+name), affinity)
	if err != nil {
		t.Fatalf("ReadFS(%s): %v", name, err)
	}
	return top
}

func list(t *testing.T, s string) CPUList {
	t.Helper()
	l, err := ParseCPUList(s)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func wantList(t *testing.T, what string, got CPUList, want string) {
	t.Helper()
	if got.String() != want {
		t.Errorf("%s = %q, want %q", what, got, want)
	}
}

func TestTwoSocket(t *testing.T) {
	top := machine(t, "two-socket", nil)
	if len(top.Nodes) != 2 {
		t.Fatalf("nodes: %+v", top.Nodes)
	}
	wantList(t, "node 0 CPUs", top.Nodes[0].CPUs, "0-7,16-23")
	wantList(t, "node 1 CPUs", top.Nodes[1].CPUs, "8-15,24-31")
	wantList(t, "allowed", top.Allowed, "0-31")
	wantList(t, "cpuset", top.Cpuset, "0-31")
	if top.CpusetFile != "/sys/fs/cgroup/cpuset.cpus.effective" {
		t.Errorf("cpuset file %q: the session scope has none, its ancestors' root does", top.CpusetFile)
	}
	if top.Nodes[0].Cores != 8 || top.Nodes[1].Cores != 8 {
		t.Errorf("cores %d, %d; want 8 each (16 threads per node)", top.Nodes[0].Cores, top.Nodes[1].Cores)
	}
	if top.Distance(0, 1) != 21 || top.Distance(1, 1) != 10 || top.Distance(0, 7) != -1 || top.Distance(7, 0) != -1 {
		t.Errorf("distances: %d %d %d %d", top.Distance(0, 1), top.Distance(1, 1), top.Distance(0, 7), top.Distance(7, 0))
	}
	if top.NodeOf(24) != 1 || top.NodeOf(16) != 0 || top.NodeOf(99) != -1 {
		t.Error("NodeOf")
	}
	if !top.MultiNode() {
		t.Error("two nodes with memory: MultiNode must hold")
	}
}

func TestFourNodeDistances(t *testing.T) {
	top := machine(t, "four-node", nil)
	if len(top.Nodes) != 4 || top.Cpuset != nil || top.CpusetFile != "" {
		t.Fatalf("four-node: %d nodes, cpuset %v (this tree has no /proc)", len(top.Nodes), top.Cpuset)
	}
	want := [4][4]int{{10, 12, 32, 32}, {12, 10, 32, 32}, {32, 32, 10, 12}, {32, 32, 12, 10}}
	for a := range 4 {
		for b := range 4 {
			if d := top.Distance(a, b); d != want[a][b] {
				t.Errorf("Distance(%d, %d) = %d, want %d", a, b, d, want[a][b])
			}
		}
		wantList(t, "node CPUs", top.Nodes[a].CPUs, []string{"0-3", "4-7", "8-11", "12-15"}[a])
	}
}

func TestOfflineCPUs(t *testing.T) {
	top := machine(t, "offline", nil)
	wantList(t, "online", top.Online, "0-2,4-5,7")
	wantList(t, "offline", top.Offline, "3,6")
	wantList(t, "possible", top.Possible, "0-7")
	if len(top.Nodes) != 3 {
		t.Fatalf("nodes found by directory scan: %+v", top.Nodes)
	}
	wantList(t, "node 0 (cpulist says 0-3; 3 is offline)", top.Nodes[0].CPUs, "0-2")
	wantList(t, "node 1", top.Nodes[1].CPUs, "4-5,7")
	if n := top.Nodes[2]; len(n.CPUs) != 0 || !n.Memory || top.Nodes[1].Memory {
		t.Errorf("node 2 is memory only and node 1 memoryless: %+v %+v", n, top.Nodes[1])
	}
	p, err := top.Plan(PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, pl := range p.Loops {
		if pl.CPU == 3 || pl.CPU == 6 {
			t.Errorf("loop %d on offline CPU %d", pl.Loop, pl.CPU)
		}
		// Node 1 has no memory: its loops' arenas go to the nearest node that has
		// (distance 20 to node 0, 30 to node 2).
		if wantMem := map[int]int{0: 0, 1: 0}[pl.Node]; pl.MemNode != wantMem {
			t.Errorf("loop %d on node %d: arena on node %d, want %d", pl.Loop, pl.Node, pl.MemNode, wantMem)
		}
	}
}

func TestContainerCpuset(t *testing.T) {
	top := machine(t, "container", list(t, "0-7"))
	wantList(t, "allowed", top.Allowed, "2-3,6")
	wantList(t, "node 0 allowed", top.Nodes[0].Allowed, "2-3,6")
	if top.CpusetFile != "/sys/fs/cgroup/cpuset.cpus.effective" {
		t.Errorf("cpuset file %q", top.CpusetFile)
	}
	p, err := top.Plan(PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.CPUs(); !slices.Equal(got, []int{2, 3, 6}) {
		t.Fatalf("one loop per allowed CPU: %v", got)
	}
	// A narrower affinity mask narrows further.
	top = machine(t, "container", list(t, "3-7"))
	wantList(t, "allowed with affinity 3-7", top.Allowed, "3,6")
}

func TestCgroupV1Cpuset(t *testing.T) {
	top := machine(t, "cgroup-v1", nil)
	// The cpuset controller is on the v1 hierarchy: the v2 file (a decoy saying "0")
	// must not be read. The job's cgroup has no file; its parent's says 1,3.
	wantList(t, "allowed", top.Allowed, "1,3")
	if top.CpusetFile != "/sys/fs/cgroup/cpuset/docker/abc/cpuset.effective_cpus" {
		t.Errorf("cpuset file %q", top.CpusetFile)
	}
}

func TestNoNUMA(t *testing.T) {
	top := machine(t, "no-numa", nil)
	if len(top.Nodes) != 1 || top.Nodes[0].ID != 0 || top.Nodes[0].CPUs.String() != "0-3" || top.MultiNode() {
		t.Fatalf("no node directories: %+v", top.Nodes)
	}
	if !strings.Contains(top.Source, "one node") {
		t.Errorf("source %q does not say why there is one node", top.Source)
	}
}

func TestReadFSErrors(t *testing.T) {
	good := fstest.MapFS{"sys/devices/system/cpu/online": {Data: []byte("0-3\n")}}
	if _, err := ReadFS(good, NewCPUList(8, 9)); !errors.Is(err, ErrNoCPU) {
		t.Errorf("affinity disjoint from online: %v, want ErrNoCPU", err)
	}
	if _, err := ReadFS(fstest.MapFS{}, nil); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("no sysfs and no affinity: %v", err)
	}
	top, err := ReadFS(fstest.MapFS{}, NewCPUList(0, 1))
	if err != nil || top.Allowed.String() != "0-1" || !strings.Contains(top.Source, "affinity") {
		t.Errorf("no sysfs, affinity known: %+v, %v", top, err)
	}
	for name, fsys := range map[string]fstest.MapFS{
		"online":   {"sys/devices/system/cpu/online": {Data: []byte("0-x")}},
		"offline":  {"sys/devices/system/cpu/online": {Data: []byte("0")}, "sys/devices/system/cpu/offline": {Data: []byte("?")}},
		"cpulist":  {"sys/devices/system/cpu/online": {Data: []byte("0")}, "sys/devices/system/node/node0/cpulist": {Data: []byte("0-")}},
		"distance": {"sys/devices/system/cpu/online": {Data: []byte("0")}, "sys/devices/system/node/node0/distance": {Data: []byte("ten")}},
		"cpuset": {
			"sys/devices/system/cpu/online": {Data: []byte("0")}, "proc/self/cgroup": {Data: []byte("0::/\n")},
			"sys/fs/cgroup/cpuset.cpus.effective": {Data: []byte("zero")},
		},
		"siblings": {"sys/devices/system/cpu/online": {Data: []byte("0")}, "sys/devices/system/cpu/cpu0/topology/core_cpus_list": {Data: []byte(",")}},
	} {
		if _, err := ReadFS(fsys, nil); err == nil {
			t.Errorf("%s: a malformed file was accepted", name)
		}
	}
}

func TestTopologyString(t *testing.T) {
	s := machine(t, "two-socket", nil).String()
	for _, want := range []string{"2 nodes", "0-7,16-23", "21 10", "cpuset 0-31", "node  cpus"} {
		if !strings.Contains(s, want) {
			t.Errorf("String lacks %q:\n%s", want, s)
		}
	}
	var back Topology
	b, err := json.Marshal(machine(t, "two-socket", nil))
	if err != nil || json.Unmarshal(b, &back) != nil || back.Nodes[1].CPUs.String() != "8-15,24-31" {
		t.Fatalf("JSON round trip: %s, %v", b, err)
	}
}

package numa

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

// The sysfs directories a topology is read from, as fs.FS paths (no leading slash).
const (
	cpuDir  = "sys/devices/system/cpu"
	nodeDir = "sys/devices/system/node"
)

// Node is one NUMA node.
type Node struct {
	// ID is the kernel's node number.
	ID int `json:"id"`
	// CPUs are the node's online CPUs.
	CPUs CPUList `json:"cpus"`
	// Allowed are the CPUs of the node this process may run on (Topology.Allowed).
	Allowed CPUList `json:"allowed"`
	// Cores counts the physical cores among Allowed: SMT siblings count once.
	Cores int `json:"cores"`
	// Memory reports whether the node has memory of its own (a node without it borrows
	// its neighbours', and binding memory to it fails).
	Memory bool `json:"memory"`
	// Distances is the node's row of the distance table: Distances[i] is the relative
	// cost of reaching Topology.Nodes[i]'s memory, 10 being local. Empty when sysfs
	// does not say.
	Distances []int `json:"distances,omitempty"`
}

// Topology is what this process can know about the machine's CPUs and memory nodes,
// and which CPUs it may use. A Topology is read-only once returned; it is safe for
// concurrent use by multiple goroutines.
type Topology struct {
	// Nodes are the online nodes, by ID. There is always at least one.
	Nodes []Node `json:"nodes"`
	// Possible, Online and Offline are the kernel's CPU lists (Possible and Offline
	// may be empty where sysfs lacks them).
	Possible CPUList `json:"possible"`
	Online   CPUList `json:"online"`
	Offline  CPUList `json:"offline"`
	// Affinity is the process's CPU affinity mask, or nil when not known.
	Affinity CPUList `json:"affinity,omitempty"`
	// Cpuset is the process's effective cgroup cpuset, or nil when none was found;
	// CpusetFile names the file it came from.
	Cpuset     CPUList `json:"cpuset,omitempty"`
	CpusetFile string  `json:"cpuset_file,omitempty"`
	// Allowed is Online ∩ Affinity ∩ Cpuset: the CPUs loops may be placed on. Never
	// empty.
	Allowed CPUList `json:"allowed"`
	// Source says where the topology came from, for diagnostics.
	Source string `json:"source"`

	core map[int]int // CPU → lowest CPU of its SMT siblings (its core's name)
}

// ErrNoCPU is returned when no online CPU is left in the affinity mask and the cpuset.
var ErrNoCPU = errors.New("numa: no CPU is both online and allowed to this process")

// ReadFS reads a Linux machine's topology from fsys, a view of its root file system:
// sys/devices/system/cpu and sys/devices/system/node, proc/self/cgroup and
// proc/self/mountinfo with the cgroup cpuset files they lead to. affinity is the
// process's affinity mask, or nil for none. Missing files mean missing information
// (no node directories: one node; no cgroup files: no cpuset); malformed ones are
// errors. Read calls it with the real root and sched_getaffinity.
func ReadFS(fsys fs.FS, affinity CPUList) (*Topology, error) {
	t := &Topology{Affinity: affinity, Source: "sysfs", core: map[int]int{}}
	var err error
	if t.Online, err = readList(fsys, cpuDir+"/online"); err != nil {
		if !errors.Is(err, fs.ErrNotExist) || affinity == nil {
			return nil, err
		}
		t.Online, t.Source = affinity, "affinity mask (no sysfs)"
	}
	if t.Possible, err = readList(fsys, cpuDir+"/possible"); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if t.Offline, err = readList(fsys, cpuDir+"/offline"); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err := t.readCpuset(fsys); err != nil {
		return nil, err
	}
	if err := t.readNodes(fsys); err != nil {
		return nil, err
	}
	if err := t.readCores(fsys); err != nil {
		return nil, err
	}
	t.restrict()
	if len(t.Allowed) == 0 {
		return nil, fmt.Errorf("%w (online %s, affinity %s, cpuset %s)", ErrNoCPU, t.Online, t.Affinity, t.Cpuset)
	}
	return t, nil
}

// readList reads one CPU-list file.
func readList(fsys fs.FS, name string) (CPUList, error) {
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, err
	}
	l, err := ParseCPUList(string(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return l, nil
}

// readNodes fills Nodes from sysfs, or with one node holding every online CPU when
// the kernel has no node directories (a kernel built without NUMA).
func (t *Topology) readNodes(fsys fs.FS) error {
	ids, err := nodeIDs(fsys)
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		t.Nodes = []Node{{ID: 0, CPUs: t.Online, Memory: true}}
		t.Source += ", no NUMA nodes listed: one node"
		return nil
	}
	withMem, err := readList(fsys, nodeDir+"/has_memory")
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	var seen CPUList
	for _, id := range ids {
		n, err := readNode(fsys, id, t.Online)
		if err != nil {
			return err
		}
		n.Memory = withMem == nil || withMem.Contains(id)
		seen = append(seen, n.CPUs...)
		t.Nodes = append(t.Nodes, n)
	}
	// An online CPU that no node lists (never seen from a real kernel, but sysfs
	// can be partial in containers) is counted as the first node's.
	if stray := t.Online.Without(NewCPUList(seen...)); len(stray) > 0 {
		t.Nodes[0].CPUs = NewCPUList(append(t.Nodes[0].CPUs, stray...)...)
	}
	return nil
}

// nodeIDs lists the online nodes: node/online where it exists, else the nodeN
// directories.
func nodeIDs(fsys fs.FS) ([]int, error) {
	l, err := readList(fsys, nodeDir+"/online")
	if err == nil {
		return l, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	ents, err := fs.ReadDir(fsys, nodeDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var ids []int
	for _, e := range ents {
		if s, ok := strings.CutPrefix(e.Name(), "node"); ok {
			if id, err := cpuNumber(s); err == nil {
				ids = append(ids, id)
			}
		}
	}
	slices.Sort(ids)
	return ids, nil
}

// readNode reads one node's CPU list and distance row.
func readNode(fsys fs.FS, id int, online CPUList) (Node, error) {
	dir := nodeDir + "/node" + strconv.Itoa(id)
	n := Node{ID: id}
	cpus, err := readList(fsys, dir+"/cpulist")
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return n, err
	}
	n.CPUs = cpus.Intersect(online)
	b, err := fs.ReadFile(fsys, dir+"/distance")
	switch {
	case err == nil:
		if n.Distances, err = ParseDistances(string(b)); err != nil {
			return n, fmt.Errorf("%s/distance: %w", dir, err)
		}
	case !errors.Is(err, fs.ErrNotExist):
		return n, err
	}
	return n, nil
}

// readCores learns which CPUs are SMT siblings, from each CPU's topology directory
// (core_cpus_list, or thread_siblings_list on kernels before 5.7). A CPU without one
// is its own core.
func (t *Topology) readCores(fsys fs.FS) error {
	for _, cpu := range t.Online {
		t.core[cpu] = cpu
		dir := cpuDir + "/cpu" + strconv.Itoa(cpu) + "/topology/"
		for _, f := range []string{"core_cpus_list", "thread_siblings_list"} {
			sib, err := readList(fsys, dir+f)
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return err
			}
			if len(sib) > 0 {
				t.core[cpu] = sib[0]
			}
			break
		}
	}
	return nil
}

// restrict computes Allowed and each node's share of it.
func (t *Topology) restrict() {
	t.Allowed = t.Online
	if t.Affinity != nil {
		t.Allowed = t.Allowed.Intersect(t.Affinity)
	}
	if t.Cpuset != nil {
		t.Allowed = t.Allowed.Intersect(t.Cpuset)
	}
	for i := range t.Nodes {
		n := &t.Nodes[i]
		n.Allowed = n.CPUs.Intersect(t.Allowed)
		cores := map[int]bool{}
		for _, c := range n.Allowed {
			cores[t.coreOf(c)] = true
		}
		n.Cores = len(cores)
	}
}

// coreOf names cpu's physical core by its lowest SMT sibling.
func (t *Topology) coreOf(cpu int) int {
	if c, ok := t.core[cpu]; ok {
		return c
	}
	return cpu
}

// readCpuset finds the process's cgroup and reads its effective cpuset: the cgroup v1
// cpuset hierarchy if the cpuset controller is bound there, else the unified (v2)
// hierarchy. A cgroup whose own file is missing inherits its parent's, so the search
// walks up to the mount point.
func (t *Topology) readCpuset(fsys fs.FS) error {
	b, err := fs.ReadFile(fsys, "proc/self/cgroup")
	if err != nil {
		return nil // no cgroups (another kernel, or no /proc): no cpuset limit
	}
	paths := parseProcCgroup(string(b))
	mounts := cgroupMounts{
		v1Cpuset: cgroupMount{root: "/", dir: "/sys/fs/cgroup/cpuset"},
		v2:       cgroupMount{root: "/", dir: "/sys/fs/cgroup"},
	}
	if mi, err := fs.ReadFile(fsys, "proc/self/mountinfo"); err == nil {
		mounts = parseMountinfo(string(mi))
	} else {
		mounts.hasV1, mounts.hasV2 = true, true
	}
	var tries []cpusetSource
	if paths.hasV1 && mounts.hasV1 {
		tries = append(tries, cpusetSource{mounts.v1Cpuset, paths.v1Cpuset, []string{"cpuset.effective_cpus", "cpuset.cpus"}})
	}
	if paths.hasV2 && mounts.hasV2 {
		tries = append(tries, cpusetSource{mounts.v2, paths.v2, []string{"cpuset.cpus.effective"}})
	}
	for _, try := range tries {
		found, err := t.cpusetUp(fsys, try)
		if found || err != nil {
			return err
		}
	}
	return nil
}

// cpusetSource is one place a cpuset may be read: a hierarchy's mount, the process's
// path in it, and the files that hold the effective CPUs, best first.
type cpusetSource struct {
	m     cgroupMount
	path  string
	files []string
}

// cpusetUp looks for the first of files in the cgroup's directory and then in each
// parent up to the mount point.
func (t *Topology) cpusetUp(fsys fs.FS, src cpusetSource) (bool, error) {
	top := strings.TrimPrefix(path.Clean(src.m.dir), "/")
	for dir := cgroupDir(src.m, src.path); ; dir = path.Dir(dir) {
		for _, f := range src.files {
			name := path.Join(dir, f)
			l, err := readList(fsys, name)
			if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrInvalid) {
				continue
			}
			if err != nil {
				return false, err
			}
			if len(l) == 0 {
				continue // a v1 cpuset.cpus not yet configured: look further up
			}
			t.Cpuset, t.CpusetFile = l, "/"+name
			return true, nil
		}
		if dir == top || dir == "." || !strings.HasPrefix(dir, top) {
			return false, nil
		}
	}
}

// Node returns the node with the given ID, or nil.
func (t *Topology) Node(id int) *Node {
	for i := range t.Nodes {
		if t.Nodes[i].ID == id {
			return &t.Nodes[i]
		}
	}
	return nil
}

// NodeOf returns the ID of the node that holds cpu, or -1 if cpu is not online.
func (t *Topology) NodeOf(cpu int) int {
	for _, n := range t.Nodes {
		if n.CPUs.Contains(cpu) {
			return n.ID
		}
	}
	return -1
}

// Distance returns the distance from node a to node b's memory as the kernel reports
// it (10 local; a remote socket is typically 20 or 21), or -1 when unknown.
func (t *Topology) Distance(a, b int) int {
	na := t.Node(a)
	if na == nil {
		return -1
	}
	for i := range t.Nodes {
		if t.Nodes[i].ID == b && i < len(na.Distances) {
			return na.Distances[i]
		}
	}
	return -1
}

// MultiNode reports whether there is more than one node with memory: only then does
// binding memory to a node change anything.
func (t *Topology) MultiNode() bool {
	n := 0
	for _, nd := range t.Nodes {
		if nd.Memory {
			n++
		}
	}
	return n > 1
}

// String renders the topology as a few lines and a table, as `zokio info` prints it.
func (t *Topology) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s; CPUs online %s, offline %s, possible %s (from %s)\n",
		len(t.Nodes), plural(len(t.Nodes), "node", "nodes"), orNone(t.Online), orNone(t.Offline), orNone(t.Possible), t.Source)
	fmt.Fprintf(&b, "allowed %s = online", t.Allowed)
	if t.Affinity != nil {
		fmt.Fprintf(&b, " ∩ affinity %s", orNone(t.Affinity))
	}
	if t.Cpuset != nil {
		fmt.Fprintf(&b, " ∩ cpuset %s (%s)", t.Cpuset, t.CpusetFile)
	} else {
		b.WriteString(" (no cgroup cpuset found)")
	}
	b.WriteString("\n")
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "node\tcpus\tallowed\tcores\tmemory\tdistances")
	for _, n := range t.Nodes {
		mem := "yes"
		if !n.Memory {
			mem = "no"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\t%s\n", n.ID, orNone(n.CPUs), orNone(n.Allowed), n.Cores, mem, distances(n.Distances))
	}
	tw.Flush()
	return strings.TrimSuffix(b.String(), "\n")
}

func orNone(l CPUList) string {
	if len(l) == 0 {
		return "none"
	}
	return l.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func distances(d []int) string {
	if len(d) == 0 {
		return "-"
	}
	s := make([]string, len(d))
	for i, v := range d {
		s[i] = strconv.Itoa(v)
	}
	return strings.Join(s, " ")
}

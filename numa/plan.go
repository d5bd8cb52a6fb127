package numa

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Strategy says how a Plan distributes loops over nodes.
type Strategy uint8

const (
	// Spread deals loops to nodes in turn, so that every node gets its share of loops
	// and each loop the most memory bandwidth and last-level cache.
	Spread Strategy = iota
	// Pack fills the lowest node's CPUs before the next node's, so that fewer loops
	// than CPUs share one node's cache and memory and cross-loop traffic stays local.
	Pack
)

// String returns "spread" or "pack".
func (s Strategy) String() string {
	switch s {
	case Spread:
		return "spread"
	case Pack:
		return "pack"
	}
	return fmt.Sprintf("strategy(%d)", uint8(s))
}

// MarshalText returns the strategy's name.
func (s Strategy) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText parses a strategy's name, as ParseStrategy does.
func (s *Strategy) UnmarshalText(b []byte) error {
	v, err := ParseStrategy(string(b))
	if err == nil {
		*s = v
	}
	return err
}

// ParseStrategy parses "spread" or "pack"; the empty string is Spread.
func ParseStrategy(s string) (Strategy, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "spread":
		return Spread, nil
	case "pack":
		return Pack, nil
	}
	return 0, fmt.Errorf("numa: unknown strategy %q (want spread or pack)", s)
}

// Policy is the memory policy that binds a loop's arena to its node.
type Policy uint8

const (
	// Preferred (MPOL_PREFERRED) takes pages from the node while it has free memory
	// and from the nearest other node after that. It never fails an allocation.
	Preferred Policy = iota
	// Strict (MPOL_BIND) takes pages from the node only; when the node is full the
	// process gets SIGBUS or the OOM killer. Use it only for arenas the node can hold.
	Strict
)

// String returns "preferred" or "strict".
func (p Policy) String() string {
	switch p {
	case Preferred:
		return "preferred"
	case Strict:
		return "strict"
	}
	return fmt.Sprintf("policy(%d)", uint8(p))
}

// MarshalText returns the policy's name.
func (p Policy) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText parses "preferred" or "strict".
func (p *Policy) UnmarshalText(b []byte) error {
	switch string(b) {
	case "preferred":
		*p = Preferred
	case "strict":
		*p = Strict
	default:
		return fmt.Errorf("numa: unknown memory policy %q (want preferred or strict)", b)
	}
	return nil
}

// PlanOptions shape a Plan. The zero value is one loop per allowed CPU, spread over
// the nodes, arenas preferring their loop's node.
type PlanOptions struct {
	// Loops is the number of loops; 0 is one per CPU in CPUs. With more loops than
	// CPUs, loop i shares the CPU of loop i mod len(CPUs).
	Loops int
	// CPUs restricts loops to these CPUs, each of which must be allowed
	// (Topology.Allowed); empty means every allowed CPU. CPUs left out remain
	// candidates for SQ threads.
	CPUs CPUList
	// Strategy distributes loops over nodes (default Spread).
	Strategy Strategy
	// Memory is the policy BindArena applies (default Preferred).
	Memory Policy
}

// Placement is where one loop runs.
type Placement struct {
	// Loop is the loop's index.
	Loop int `json:"loop"`
	// CPU is the CPU to pin the loop's thread to (PinThread).
	CPU int `json:"cpu"`
	// Node is CPU's node.
	Node int `json:"node"`
	// MemNode is where the loop's buffer arena should live (BindArena): Node, or the
	// nearest node with memory when Node has none of its own.
	MemNode int `json:"mem_node"`
	// SQCPU is the CPU, on Node, for the kernel submission thread of the loop's ring
	// when SQPOLL is on (package sqpoll): a CPU of the node that runs no loop when
	// there is one, else the loop's own CPU.
	SQCPU int `json:"sq_cpu"`
	// SQShared reports that SQCPU also runs a loop: with SQPOLL the kernel thread and
	// the loop then take turns on one CPU.
	SQShared bool `json:"sq_cpu_shared"`
}

// Plan places a runtime's loops: one Placement per loop, by index. A Plan is
// read-only once made; it is safe for concurrent use by multiple goroutines.
type Plan struct {
	// Strategy and Memory are the options the plan was made with.
	Strategy Strategy `json:"strategy"`
	Memory   Policy   `json:"memory_policy"`
	// Loops holds one Placement per loop; Loops[i].Loop == i.
	Loops []Placement `json:"loops"`
	// BindsMemory reports whether BindArena calls mbind: only where the topology has
	// more than one node with memory.
	BindsMemory bool `json:"binds_memory"`
	nodes       int  // nodes that have loops
}

// ErrNotAllowed is wrapped by Plan's error for requested CPUs outside Topology.Allowed.
var ErrNotAllowed = errors.New("numa: CPU not allowed to this process")

// Plan places loops on the allowed CPUs as o asks. Within a node, loops take one CPU of
// each physical core before any second SMT sibling, so that two loops share a core
// only when there are more loops than cores.
func (t *Topology) Plan(o PlanOptions) (*Plan, error) {
	cands := t.Allowed
	if len(o.CPUs) > 0 {
		if bad := o.CPUs.Without(t.Allowed); len(bad) > 0 {
			return nil, fmt.Errorf("%w: CPUs %s (allowed: %s)", ErrNotAllowed, bad, t.Allowed)
		}
		cands = o.CPUs
	}
	if o.Loops < 0 {
		return nil, fmt.Errorf("numa: negative loop count %d", o.Loops)
	}
	if o.Strategy > Pack || o.Memory > Strict {
		return nil, fmt.Errorf("numa: unknown strategy %v or policy %v", o.Strategy, o.Memory)
	}
	n := o.Loops
	if n == 0 {
		n = len(cands)
	}
	order := t.order(cands, o.Strategy)
	if len(order) == 0 {
		return nil, fmt.Errorf("%w: CPUs %s belong to no node", ErrNoCPU, cands)
	}
	used := NewCPUList(order[:min(n, len(order))]...)
	p := &Plan{Strategy: o.Strategy, Memory: o.Memory, BindsMemory: t.MultiNode()}
	spare := map[int][]int{} // node → allowed CPUs that run no loop, cores first
	perNode := map[int]int{} // node → loops placed so far
	for _, nd := range t.Nodes {
		spare[nd.ID] = t.coresFirst(nd.Allowed.Without(used))
	}
	for i := 0; i < n; i++ {
		cpu := order[i%len(order)]
		node := t.NodeOf(cpu)
		pl := Placement{Loop: i, CPU: cpu, Node: node, MemNode: t.memNode(node), SQCPU: cpu, SQShared: true}
		if s := spare[pl.Node]; len(s) > 0 {
			pl.SQCPU, pl.SQShared = s[perNode[pl.Node]%len(s)], false
		}
		if perNode[pl.Node] == 0 {
			p.nodes++
		}
		perNode[pl.Node]++
		p.Loops = append(p.Loops, pl)
	}
	return p, nil
}

// order lists cands in the order loops take them.
func (t *Topology) order(cands CPUList, s Strategy) []int {
	var byNode [][]int
	total := 0
	for _, nd := range t.Nodes {
		if c := t.coresFirst(nd.CPUs.Intersect(cands)); len(c) > 0 {
			byNode = append(byNode, c)
			total += len(c)
		}
	}
	var out []int
	if s == Pack {
		for _, c := range byNode {
			out = append(out, c...)
		}
		return out
	}
	for round := 0; len(out) < total; round++ {
		for _, c := range byNode {
			if round < len(c) {
				out = append(out, c[round])
			}
		}
	}
	return out
}

// coresFirst orders cpus so that the first CPU of every core comes before any second
// sibling, keeping ascending order within each tier.
func (t *Topology) coresFirst(cpus CPUList) []int {
	seen := map[int]bool{}
	var first, rest []int
	for _, c := range cpus {
		if core := t.coreOf(c); !seen[core] {
			seen[core] = true
			first = append(first, c)
		} else {
			rest = append(rest, c)
		}
	}
	return append(first, rest...)
}

// memNode returns node if it has memory, else the nearest node that has (the lowest
// ID among equals, or when distances are unknown).
func (t *Topology) memNode(node int) int {
	if nd := t.Node(node); nd == nil || nd.Memory {
		return node
	}
	best, bestDist := -1, 0
	for _, nd := range t.Nodes {
		if !nd.Memory {
			continue
		}
		d := t.Distance(node, nd.ID)
		if d < 0 {
			d = MaxDistance + 1
		}
		if best < 0 || d < bestDist {
			best, bestDist = nd.ID, d
		}
	}
	if best < 0 {
		return node
	}
	return best
}

// CPUs returns the loops' CPUs in loop order (a CPU appears once per loop on it).
func (p *Plan) CPUs() []int {
	cpus := make([]int, len(p.Loops))
	for i, pl := range p.Loops {
		cpus[i] = pl.CPU
	}
	return cpus
}

// BindArena binds mem, a loop's buffer arena mapped outside the Go heap (mmap), to the
// loop's node with the plan's policy. Where the machine has a single node with memory
// there is nothing to choose between and it does nothing. See Bind for what mem must
// be and for the errors.
func (p *Plan) BindArena(loop int, mem []byte) error {
	if loop < 0 || loop >= len(p.Loops) {
		return fmt.Errorf("numa: loop %d out of range [0, %d)", loop, len(p.Loops))
	}
	if !p.BindsMemory {
		return nil
	}
	return Bind(mem, p.Loops[loop].MemNode, p.Memory)
}

// String renders the plan as a line and a table, as `zokio info` prints it.
func (p *Plan) String() string {
	var b strings.Builder
	mem := "arenas " + p.Memory.String() + " on their loop's node"
	if !p.BindsMemory {
		mem = "arenas not bound (one node)"
	}
	fmt.Fprintf(&b, "%s: %d %s on %d %s; %s\n", p.Strategy, len(p.Loops), plural(len(p.Loops), "loop", "loops"),
		p.nodes, plural(p.nodes, "node", "nodes"), mem)
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "loop\tcpu\tnode\tmem-node\tsq-cpu")
	shared := false
	for _, pl := range p.Loops {
		sq := strconv.Itoa(pl.SQCPU)
		if pl.SQShared {
			sq += "*"
			shared = true
		}
		fmt.Fprintf(tw, "%d\t%d\t%d\t%d\t%s\n", pl.Loop, pl.CPU, pl.Node, pl.MemNode, sq)
	}
	tw.Flush()
	if shared {
		b.WriteString("* with SQPOLL, the SQ thread shares a loop's CPU: its node has no CPU to spare\n")
	}
	return strings.TrimSuffix(b.String(), "\n")
}

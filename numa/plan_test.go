package numa

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestPlanSpreadTwoSocket(t *testing.T) {
	top := machine(t, "two-socket", nil)
	p, err := top.Plan(PlanOptions{Loops: 4})
	if err != nil {
		t.Fatal(err)
	}
	// Alternating sockets, one CPU per physical core first.
	if got := p.CPUs(); !slices.Equal(got, []int{0, 8, 1, 9}) {
		t.Fatalf("spread CPUs %v", got)
	}
	for _, pl := range p.Loops {
		if pl.Node != top.NodeOf(pl.CPU) || pl.MemNode != pl.Node {
			t.Errorf("loop %d: node %d, mem node %d, CPU %d on node %d", pl.Loop, pl.Node, pl.MemNode, pl.CPU, top.NodeOf(pl.CPU))
		}
		if pl.SQShared || top.NodeOf(pl.SQCPU) != pl.Node || slices.Contains(p.CPUs(), pl.SQCPU) {
			t.Errorf("loop %d: SQ CPU %d must be a spare CPU of node %d", pl.Loop, pl.SQCPU, pl.Node)
		}
	}
	if !p.BindsMemory {
		t.Error("two nodes with memory: arenas must be bound")
	}
}

func TestPlanPackTwoSocket(t *testing.T) {
	top := machine(t, "two-socket", nil)
	p, err := top.Plan(PlanOptions{Loops: 10, Strategy: Pack})
	if err != nil {
		t.Fatal(err)
	}
	// Node 0's eight cores, then its SMT siblings would follow; ten loops take the
	// eight cores and the first two siblings, all on node 0.
	if got := p.CPUs(); !slices.Equal(got, []int{0, 1, 2, 3, 4, 5, 6, 7, 16, 17}) {
		t.Fatalf("pack CPUs %v", got)
	}
	for _, pl := range p.Loops {
		if pl.Node != 0 || top.NodeOf(pl.SQCPU) != 0 || pl.SQShared {
			t.Errorf("loop %+v: want node 0 with a spare node-0 SQ CPU", pl)
		}
	}
}

func TestPlanAllCPUs(t *testing.T) {
	top := machine(t, "two-socket", nil)
	for _, s := range []Strategy{Spread, Pack} {
		p, err := top.Plan(PlanOptions{Strategy: s})
		if err != nil {
			t.Fatal(err)
		}
		cpus := p.CPUs()
		if len(cpus) != 32 || !slices.Equal(NewCPUList(cpus...), top.Allowed) {
			t.Fatalf("%v: every allowed CPU once: %v", s, cpus)
		}
		for _, pl := range p.Loops {
			if !pl.SQShared || pl.SQCPU != pl.CPU {
				t.Errorf("%v loop %+v: no spare CPU, so the SQ thread shares the loop's", s, pl)
			}
		}
		if !strings.Contains(p.String(), "* with SQPOLL") {
			t.Errorf("String does not explain the shared SQ CPUs:\n%s", p)
		}
	}
}

func TestPlanFourNode(t *testing.T) {
	top := machine(t, "four-node", nil)
	p, err := top.Plan(PlanOptions{Loops: 6})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.CPUs(); !slices.Equal(got, []int{0, 4, 8, 12, 1, 5}) {
		t.Fatalf("spread over four nodes: %v", got)
	}
	p, err = top.Plan(PlanOptions{Loops: 6, Strategy: Pack})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.CPUs(); !slices.Equal(got, []int{0, 1, 2, 3, 4, 5}) {
		t.Fatalf("pack over four nodes: %v", got)
	}
}

func TestPlanMoreLoopsThanCPUs(t *testing.T) {
	top := machine(t, "container", nil)
	p, err := top.Plan(PlanOptions{Loops: 7})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.CPUs(); !slices.Equal(got, []int{2, 3, 6, 2, 3, 6, 2}) {
		t.Fatalf("loop i shares the CPU of loop i mod 3: %v", got)
	}
}

func TestPlanCPUsOption(t *testing.T) {
	top := machine(t, "two-socket", nil)
	p, err := top.Plan(PlanOptions{CPUs: NewCPUList(0, 1, 8)})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.CPUs(); !slices.Equal(got, []int{0, 8, 1}) {
		t.Fatalf("loops on the given CPUs: %v", got)
	}
	for _, pl := range p.Loops {
		if pl.SQShared || slices.Contains([]int{0, 1, 8}, pl.SQCPU) {
			t.Errorf("allowed CPUs left out of CPUs host SQ threads: %+v", pl)
		}
	}
	c := machine(t, "container", nil)
	if _, err := c.Plan(PlanOptions{CPUs: NewCPUList(2, 5)}); !errors.Is(err, ErrNotAllowed) || !strings.Contains(err.Error(), "5") {
		t.Fatalf("CPU 5 is outside the cpuset: %v", err)
	}
	if _, err := c.Plan(PlanOptions{Loops: -1}); err == nil {
		t.Fatal("negative loop count accepted")
	}
	if _, err := c.Plan(PlanOptions{Strategy: 9}); err == nil {
		t.Fatal("unknown strategy accepted")
	}
}

func TestParseStrategy(t *testing.T) {
	for in, want := range map[string]Strategy{"": Spread, "spread": Spread, " PACK ": Pack} {
		if got, err := ParseStrategy(in); err != nil || got != want {
			t.Errorf("ParseStrategy(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseStrategy("scatter"); err == nil {
		t.Error("ParseStrategy accepted scatter")
	}
	if Strategy(7).String() != "strategy(7)" || Policy(7).String() != "policy(7)" || Strict.String() != "strict" {
		t.Error("String of unknown values")
	}
}

func TestBindArenaSingleNodeDoesNothing(t *testing.T) {
	p, err := machine(t, "container", nil).Plan(PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// One node: nothing to bind, so not even the alignment is checked.
	if err := p.BindArena(0, make([]byte, 10)); err != nil || p.BindsMemory {
		t.Fatalf("BindArena on one node: %v (binds %v)", err, p.BindsMemory)
	}
	if err := p.BindArena(3, nil); err == nil {
		t.Fatal("BindArena accepted an out-of-range loop")
	}
	if !strings.Contains(p.String(), "not bound (one node)") {
		t.Errorf("String:\n%s", p)
	}
}

func TestPlanJSON(t *testing.T) {
	p, err := machine(t, "four-node", nil).Plan(PlanOptions{Loops: 2, Strategy: Pack, Memory: Strict})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var back Plan
	if err := json.Unmarshal(b, &back); err != nil || back.Strategy != Pack || back.Memory != Strict || len(back.Loops) != 2 {
		t.Fatalf("round trip: %s -> %+v, %v", b, back, err)
	}
	var pol Policy
	if err := pol.UnmarshalText([]byte("lax")); err == nil {
		t.Fatal("unknown policy accepted")
	}
}

package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/zokio/zokio/numa"
	"github.com/zokio/zokio/runtime/driver"
	"github.com/zokio/zokio/sqpoll"
)

// numaInfo is the topology this process sees and the plan a runtime would use on it.
type numaInfo struct {
	Topology *numa.Topology `json:"topology,omitempty"`
	Plan     *numa.Plan     `json:"plan,omitempty"`
	Error    string         `json:"error,omitempty"`
}

// sqpollInfo says whether SQPOLL rings, and shared SQ threads, are allowed here, and
// which mode the runtime's policy picks.
type sqpollInfo struct {
	Probed      bool            `json:"probed"`
	Allowed     bool            `json:"allowed"`
	Error       string          `json:"error,omitempty"`
	Shared      bool            `json:"shared_allowed"`
	SharedError string          `json:"shared_error,omitempty"`
	Decision    sqpoll.Decision `json:"decision"`
	Idle        string          `json:"idle"`
}

// gatherPlacement reads the topology, plans loops on it, and asks the kernel about
// SQPOLL unless the driver decision forbade io_uring_setup.
func gatherPlacement(r *infoReport, dec driver.Decision, plan numa.PlanOptions) {
	r.NUMA = gatherNUMA(plan)
	r.SQPoll = &sqpollInfo{Probed: dec.Probed && dec.Kind == driver.Uring, Idle: sqpoll.DefaultIdle.String()}
	if !r.SQPoll.Probed {
		// ZOKIO_DRIVER=epoll, or no io_uring: never create a ring for the question.
		r.SQPoll.Decision = sqpoll.Decision{Mode: sqpoll.Off, Reason: "no SQ thread: the driver is " + string(dec.Kind)}
		return
	}
	p := sqpoll.Probe()
	r.SQPoll.Allowed, r.SQPoll.Shared = p.Err == nil, p.AttachErr == nil
	if p.Err != nil {
		r.SQPoll.Error = p.Err.Error()
	}
	if p.AttachErr != nil {
		r.SQPoll.SharedError = p.AttachErr.Error()
	}
	if _, d, err := sqpoll.Decide(sqpoll.Config{}); err != nil {
		r.SQPoll.Decision = sqpoll.Decision{Mode: sqpoll.Off, Reason: err.Error()}
	} else {
		r.SQPoll.Decision = d
	}
}

func gatherNUMA(plan numa.PlanOptions) *numaInfo {
	top, err := numa.Read()
	if err != nil {
		return &numaInfo{Error: err.Error()}
	}
	p, err := top.Plan(plan)
	if err != nil {
		return &numaInfo{Topology: top, Error: err.Error()}
	}
	return &numaInfo{Topology: top, Plan: p}
}

// printPlacement prints the NUMA and SQPOLL parts of the report.
func printPlacement(w io.Writer, r *infoReport) {
	if n := r.NUMA; n != nil {
		if n.Topology != nil {
			printBlock(w, "numa", n.Topology.String())
		}
		if n.Plan != nil {
			printBlock(w, "plan", n.Plan.String())
		}
		if n.Error != "" {
			fmt.Fprintf(w, "numa        ERROR: %s\n", n.Error)
		}
	}
	s := r.SQPoll
	if s == nil {
		return
	}
	switch {
	case !s.Probed:
		fmt.Fprintf(w, "sqpoll      not probed\n")
	case !s.Allowed:
		fmt.Fprintf(w, "sqpoll      REFUSED: %s\n", s.Error)
	case !s.Shared:
		fmt.Fprintf(w, "sqpoll      allowed per ring; a shared SQ thread is REFUSED: %s\n", s.SharedError)
	default:
		fmt.Fprintf(w, "sqpoll      allowed, per ring and shared (ATTACH_WQ); SQ threads idle after %s\n", s.Idle)
	}
	fmt.Fprintf(w, "  policy    %s — %s\n", s.Decision.Mode, s.Decision.Reason)
}

// printBlock prints a multi-line block under a label, the lines after the first
// indented to the value column.
func printBlock(w io.Writer, label, text string) {
	for i, line := range strings.Split(text, "\n") {
		if i == 0 {
			fmt.Fprintf(w, "%-12s%s\n", label, line)
		} else {
			fmt.Fprintf(w, "%12s%s\n", "", line)
		}
	}
}

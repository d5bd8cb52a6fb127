package sqpoll_test

import (
	"fmt"
	"time"

	"github.com/zokio/zokio/numa"
	"github.com/zokio/zokio/sqpoll"
	"github.com/zokio/zokio/uring"
)

// Apply configures each loop's ring for the decided mode. With Shared, the first ring
// is created first and the others attach to it, so all share one SQ thread; each
// thread goes on the CPU the numa plan chose for its loop.
func ExampleConfig_Apply() {
	cfg, dec, err := sqpoll.Decide(sqpoll.Config{Mode: sqpoll.Shared})
	if err != nil {
		fmt.Println(err)
		return
	}
	top, err := numa.Read()
	if err != nil {
		fmt.Println(err)
		return
	}
	plan, err := top.Plan(numa.PlanOptions{Loops: 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	var drivers []*uring.Driver
	defer func() {
		for _, d := range drivers {
			d.Close()
		}
	}()
	var first *uring.Driver
	for _, pl := range plan.Loops {
		dc := uring.DriverConfig{Entries: 64}
		cfg.Apply(&dc, first, pl.SQCPU)
		d, err := uring.NewDriver(dc)
		if err != nil {
			fmt.Println(err)
			return
		}
		drivers = append(drivers, d)
		if first == nil {
			first = d
		}
	}
	attached := drivers[1].Ring().Flags()&uring.SetupAttachWQ != 0
	fmt.Println(attached == (dec.Mode == sqpoll.Shared))
	// Output: true
}

// Threads lists io_uring's kernel threads of this process, with the CPU time they
// used: under SQPOLL, part of every op's cost. A benchmark reads it before and after a
// run and charges the difference to the ops.
func ExampleThreads() {
	ths, err := sqpoll.Threads()
	if err != nil {
		fmt.Println(err)
		return
	}
	var sq time.Duration
	for _, th := range ths {
		if th.SQ {
			sq += th.CPUTime
		}
	}
	fmt.Printf("%d io_uring threads; SQ threads used %v of CPU\n", len(ths), sq)
}

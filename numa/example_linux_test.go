package numa_test

import (
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"

	"github.com/zokio/zokio/numa"
)

// A loop's goroutine locks its thread, pins it to the plan's CPU and maps its arena
// bound to its node. It never unlocks the thread: when the goroutine ends, Go ends the
// thread with it.
func ExamplePinThread() {
	top, err := numa.Read()
	if err != nil {
		fmt.Println(err)
		return
	}
	plan, err := top.Plan(numa.PlanOptions{Loops: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	done := make(chan error)
	go func() {
		runtime.LockOSThread() // first lock, then pin; never unlock
		if err := numa.PinThread(plan.Loops[0].CPU); err != nil {
			done <- err
			return
		}
		arena, err := unix.Mmap(-1, 0, 1<<20, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
		if err != nil {
			done <- err
			return
		}
		defer unix.Munmap(arena)
		done <- plan.BindArena(0, arena) // nothing to do on one node
	}()
	fmt.Println(<-done)
	// Output: <nil>
}

// Package runtime is Zokio's event-driven runtime: one event loop per core, each a
// goroutine locked to its OS thread (pinned to its CPU where allowed; Options.UnlockedLoops
// leaves it free to change threads) that owns one I/O driver — io_uring, or epoll where
// io_uring is unavailable (see package driver).
//
// A loop's turn runs ready tasks under a budget, fires due timers, hands submissions to
// the kernel and delivers completions, then blocks in the kernel until the next timer
// or a wakeup. Waiting never polls with sleep or yield: an idle runtime makes no wakeups
// at all.
//
// Work reaches a loop in three ways:
//
//   - Runtime.Spawn and Loop.Spawn queue stealable tasks: an idle loop steals half of a
//     busy loop's queue before it sleeps, so one loop stuck in a long task does not
//     delay them. Loop.Spawn, from code already on the loop, allocates nothing.
//   - Loop.Post, Loop.Call and Loop.Do run code or an op on one particular loop from
//     any goroutine, through the loop's lock-free inbox; a post to a sleeping loop
//     wakes it, and no wakeup is ever lost.
//   - Loop.Submit, on the loop, hands an op to the driver with a completion callback;
//     poller.Op values can be embedded and reused, so steady state allocates nothing.
//
// Future[T] carries results across: Then runs a callback on a loop, Await parks a
// goroutine (cancelling the work, and losing no result, if its context ends), and All,
// Race and Any combine futures. BlockOn runs an asynchronous function on a loop and
// waits for the future it returns.
//
// An Arena (NewArena) is a loop's block of aligned buffers mapped outside the Go heap;
// with io_uring each arena is registered in a slot of its loop's registered buffer
// table, and Loop.RegisteredBuffer tells an op which fixed buffer its memory is in.
// Package zfile and package znet use the same arenas.
//
// Everything a loop runs — tasks, timer callbacks, completions — runs on its goroutine,
// one at a time, so code on a loop needs no locks for the loop's own state. Methods
// documented "on the loop only" must be called from such code. This package shares
// its name with the standard library's runtime; import that one under another name
// (this package does: goruntime).
package runtime

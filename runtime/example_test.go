package runtime_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/zokio/zokio/runtime"
)

// A runtime runs functions on its loops. Close waits for them to stop.
func ExampleNew() {
	rt, err := runtime.New(runtime.Options{Loops: 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer rt.Close(context.Background())
	sum := 0
	l := rt.Loops()[0]
	_ = l.Call(context.Background(), func() {
		for i := 1; i <= 10; i++ {
			sum += i // on the loop: no lock needed for the loop's own state
		}
	})
	fmt.Println(sum)
	// Output: 55
}

// BlockOn runs an asynchronous computation on a loop: here a timer on the loop completes
// the future that BlockOn waits for.
func ExampleBlockOn() {
	rt, err := runtime.New(runtime.Options{Loops: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer rt.Close(context.Background())
	v, err := runtime.BlockOn(context.Background(), rt, func(l *runtime.Loop) *runtime.Future[string] {
		f := runtime.NewFuture[string]()
		l.AfterFunc(time.Millisecond, func() { f.Complete("fired on the loop", nil) })
		return f
	})
	fmt.Println(v, err)
	// Output: fired on the loop <nil>
}

// Race returns the first future to complete and cancels the rest.
func ExampleRace() {
	rt, err := runtime.New(runtime.Options{Loops: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer rt.Close(context.Background())
	l := rt.Loops()[0]
	slow, fast := l.Sleep(time.Hour), l.Sleep(time.Millisecond)
	_, err = runtime.Race(slow, fast).Await(context.Background())
	fmt.Println("race:", err)
	_, err = slow.Await(context.Background())
	fmt.Println("loser:", err)
	// Output:
	// race: <nil>
	// loser: context canceled
}

// DumpInFlight shows what each loop's driver still holds: here nothing, since no op
// is in flight. A program that waits too long can print it beside its goroutines.
func ExampleRuntime_DumpInFlight() {
	rt, err := runtime.New(runtime.Options{Loops: 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer rt.Close(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	rt.DumpInFlight(ctx, os.Stdout)
	// Output:
	// loop 0: in-flight table: 0 op(s)
	// loop 1: in-flight table: 0 op(s)
}

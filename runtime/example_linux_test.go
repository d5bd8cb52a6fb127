package runtime_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/zokio/zokio/poller"
	"github.com/zokio/zokio/runtime"
)

// The example reads through an os.File's descriptor, which is Linux's kind of
// descriptor: on Windows os.Open's handles are not overlapped, and files go through
// zfile instead.

// An Arena hands out aligned buffers mapped outside the Go heap. With io_uring it is
// registered with its loop's ring (a loop holds many), and RegisteredBuffer gives the
// index that a fixed read or write into one of its buffers names; on epoll the same
// code runs a plain read.
func ExampleNewArena() {
	rt, err := runtime.New(runtime.Options{Loops: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer rt.Close(context.Background())
	dir, _ := os.MkdirTemp("", "arena-example")
	defer os.RemoveAll(dir)
	name := filepath.Join(dir, "data")
	if err := os.WriteFile(name, []byte("fixed buffers"), 0o644); err != nil {
		fmt.Println(err)
		return
	}
	f, err := os.Open(name)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()

	ctx, l := context.Background(), rt.Loops()[0]
	a, err := runtime.NewArena(ctx, l, runtime.ArenaOptions{BufSize: 4096, Count: 8})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer a.Close()
	buf := a.Get()
	defer a.Put(buf)
	op := &poller.Op{Code: poller.OpRead, Fd: int(f.Fd()), Buf: buf}
	if idx, ok := l.RegisteredBuffer(buf); ok {
		op.Flags |= poller.FlagFixedBuffer // READ_FIXED: the kernel skips pinning the page
		op.BufIndex = idx
	}
	n, err := l.Do(ctx, op)
	fmt.Println(n, err, string(buf[:n]), (op.Flags&poller.FlagFixedBuffer != 0) == a.Registered())
	// Output: 13 <nil> fixed buffers true
}

package zfile_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/zokio/zokio/runtime"
	"github.com/zokio/zokio/runtime/zfile"
)

// writeBehind appends chunks numbered chunks to f with inFlight writes in flight and
// an fsync every syncEvery chunks and at the end, each fsync overlapped with the
// writes after it.
//
// One Batch holds the writes since the last sync point (drained there, so that it can
// be Reset), another the fsync in flight. A buffer is refilled only once Next has
// reported its write; the next fsync, and the end, wait for the previous one. So each
// fsync covers everything before its sync point, as with Write and Sync in turn.
func writeBehind(ctx context.Context, f *zfile.File, chunks, size, inFlight, syncEvery int) error {
	writes, syncs := zfile.NewBatch(f.Loop()), zfile.NewBatch(f.Loop())
	bufs := make([][]byte, inFlight)
	var free []int // buffers not in flight
	for b := range bufs {
		free = append(free, b)
	}
	owner := make([]int, 0, syncEvery) // write's index in the batch → its buffer
	reap := func() error {             // waits for one write and frees its buffer
		i, err := writes.Next(ctx)
		if err != nil {
			return err
		}
		free = append(free, owner[i])
		_, err = writes.Result(i)
		return err
	}
	for c := 1; c <= chunks; c++ {
		if len(free) == 0 {
			if err := reap(); err != nil {
				return err
			}
		}
		b := free[len(free)-1]
		free = free[:len(free)-1]
		bufs[b] = fmt.Appendf(bufs[b][:0], "%-*d", size, c) // chunk c's data
		writes.WriteAt(f, bufs[b], int64(c-1)*int64(size))
		owner = append(owner, b)
		if err := writes.Submit(ctx); err != nil {
			return err
		}
		if c%syncEvery != 0 && c != chunks {
			continue
		}
		for len(free) < inFlight { // the fsync covers every write before it
			if err := reap(); err != nil {
				return err
			}
		}
		_ = writes.Reset() // nothing is outstanding
		owner = owner[:0]
		if err := syncs.Wait(ctx); err != nil { // one fsync in flight at a time
			return err
		}
		_ = syncs.Reset()
		syncs.Sync(f)
		if err := syncs.Submit(ctx); err != nil {
			return err
		}
	}
	return syncs.Wait(ctx) // the last fsync
}

// Write-behind: a storage engine streaming a log keeps several writes in flight, each
// from its own buffer, and overlaps every fsync with the writes after it, instead of
// waiting for one write at a time. bench/file's *-wb contenders do this with 1 MiB
// writes.
func ExampleBatch_writeBehind() {
	rt, err := runtime.New(runtime.Options{Loops: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer rt.Close(context.Background())
	dir, _ := os.MkdirTemp("", "zfile-example")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	f, err := zfile.Create(ctx, rt, filepath.Join(dir, "log"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()

	err = writeBehind(ctx, f, 10, 4096, 3, 4)
	p := make([]byte, 8)
	n, _ := f.ReadAt(p, 6*4096)
	fmt.Printf("%v; chunk 7 starts %q\n", err, p[:n])
	// Output: <nil>; chunk 7 starts "7       "
}

package zfile_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/zokio/zokio/runtime"
	"github.com/zokio/zokio/runtime/zfile"
)

// WriteBehind streams a log the way a storage engine does: several writes in flight,
// each from its own buffer, and every fsync overlapped with the writes after it,
// instead of one Write and Sync at a time. bench/file's *-wb contenders do this with
// 1 MiB chunks.
func ExampleWriteBehind() {
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

	// 10 chunks of 4 KiB, 3 writes in flight, an fsync every 4 chunks and at the end.
	err = zfile.WriteBehind(ctx, f, 10, 4096, 3, 4, func(i int, buf []byte) {
		copy(buf, fmt.Sprintf("%-*d", len(buf), i+1)) // chunk i's data
	})
	p := make([]byte, 8)
	n, _ := f.ReadAt(p, 6*4096)
	fmt.Printf("%v; chunk 7 starts %q\n", err, p[:n])
	// Output: <nil>; chunk 7 starts "7       "
}

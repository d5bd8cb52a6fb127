package zfile_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/zokio/zokio/runtime"
	"github.com/zokio/zokio/runtime/zfile"
)

// A File reads and writes like an *os.File, from any goroutine, with its ops running
// through the runtime's driver.
func ExampleOpenFile() {
	rt, err := runtime.New(runtime.Options{Loops: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer rt.Close(context.Background())
	dir, _ := os.MkdirTemp("", "zfile-example")
	defer os.RemoveAll(dir)

	ctx := context.Background()
	f, err := zfile.OpenFile(ctx, rt, filepath.Join(dir, "log"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()
	if _, err := f.Write([]byte("hello, ring")); err != nil {
		fmt.Println(err)
		return
	}
	p := make([]byte, 64)
	n, err := f.ReadAt(p, 7)
	fmt.Printf("%q %v\n", p[:n], err) // ReadAt's rule: fewer bytes than asked come with io.EOF
	// Output: "ring" EOF
}

// A Batch hands many ops to a loop at once. Linking a write to an fsync makes them one
// chain: the fsync runs only if the write succeeded in full.
func ExampleBatch() {
	rt, err := runtime.New(runtime.Options{Loops: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer rt.Close(context.Background())
	dir, _ := os.MkdirTemp("", "zfile-example")
	defer os.RemoveAll(dir)

	ctx := context.Background()
	f, err := zfile.Create(ctx, rt, filepath.Join(dir, "wal"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()
	b := zfile.NewBatch(f.Loop())
	b.WriteAt(f, []byte("record 1;"), 0)
	b.WriteAt(f, []byte("record 2;"), 9)
	b.Link() // the second write, then the fsync
	sync := b.Sync(f)
	if err := b.Wait(ctx); err != nil {
		fmt.Println(err)
		return
	}
	_, err = b.Result(sync)
	fmt.Println("durable:", err == nil)
	// Output: durable: true
}

// Code running on a loop reads without parking: the callback runs on the loop when
// the read completes.
func ExampleFile_ReadAtOn() {
	rt, err := runtime.New(runtime.Options{Loops: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer rt.Close(context.Background())
	dir, _ := os.MkdirTemp("", "zfile-example")
	defer os.RemoveAll(dir)
	name := filepath.Join(dir, "data")
	_ = os.WriteFile(name, []byte("0123456789"), 0o644)

	f, err := zfile.Open(context.Background(), rt, name)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()
	l := f.Loop()
	done := make(chan string, 1)
	p := make([]byte, 4)
	_ = l.Post(func() { // on the loop
		err := f.ReadAtOn(l, p, 3, func(n int, err error) {
			done <- fmt.Sprintf("%q %v", p[:n], err)
		})
		if err != nil {
			done <- err.Error()
		}
	})
	fmt.Println(<-done)
	// Output: "3456" <nil>
}

// An Arena gives aligned buffers outside the Go heap, registered with the loop's ring
// where the driver can; reads into them use READ_FIXED. They suit O_DIRECT.
func ExampleArena() {
	rt, err := runtime.New(runtime.Options{Loops: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer rt.Close(context.Background())
	dir, _ := os.MkdirTemp("", "zfile-example")
	defer os.RemoveAll(dir)

	ctx := context.Background()
	l := rt.Loops()[0]
	a, err := zfile.NewArena(ctx, l, zfile.ArenaOptions{BufSize: 4096, Count: 8})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer a.Close()
	f, err := zfile.OpenFileWith(ctx, rt, filepath.Join(dir, "blocks"), os.O_RDWR|os.O_CREATE, 0o644,
		zfile.OpenOptions{Loop: l, Fixed: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()
	buf := a.Get()
	defer a.Put(buf)
	copy(buf, "block zero")
	if _, err := f.WriteAt(buf, 0); err != nil {
		fmt.Println(err)
		return
	}
	n, err := f.ReadAt(buf, 0)
	fmt.Println(n, err, string(buf[:10]))
	// Output: 4096 <nil> block zero
}

// Stat returns an fs.FileInfo computed as os.Stat computes it, and its errors are
// os's too: an *fs.PathError that errors.Is matches with fs.ErrNotExist. (The text
// is the system's: "stat /no/such/file: no such file or directory" on Linux.)
func ExampleStat() {
	rt, err := runtime.New(runtime.Options{Loops: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer rt.Close(context.Background())
	dir, _ := os.MkdirTemp("", "zfile-example")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	if err := os.WriteFile(filepath.Join(dir, "data"), []byte("twelve bytes"), 0o644); err != nil {
		fmt.Println(err)
		return
	}
	fi, err := zfile.Stat(ctx, rt, filepath.Join(dir, "data"))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(fi.Name(), fi.Size(), fi.Mode().IsRegular())

	_, err = zfile.Stat(ctx, rt, filepath.Join(dir, "missing"))
	var pe *fs.PathError
	fmt.Println(errors.As(err, &pe), errors.Is(err, fs.ErrNotExist), filepath.Base(pe.Path))
	// Output:
	// data 12 true
	// true true missing
}

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

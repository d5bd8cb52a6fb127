package zfile

import (
	"context"
	"os"
	"syscall"
	"testing"

	"github.com/zokio/zokio/runtime"
	"github.com/zokio/zokio/runtime/driver"
)

// Micro-benchmarks of the read paths beside os.File. bench/file runs the full
// comparison (depths, O_DIRECT, fio) with repetitions; these are for profiling.
//
// ZFILE_BENCH_FILE names a large file to read (default: a 64 MiB temporary file).

func benchFile(b *testing.B) (string, int64) {
	if name := os.Getenv("ZFILE_BENCH_FILE"); name != "" {
		fi, err := os.Stat(name)
		if err != nil {
			b.Fatal(err)
		}
		return name, fi.Size()
	}
	name := b.TempDir() + "/data"
	writeFile(b, name, 64<<20)
	return name, 64 << 20
}

func benchRuntime(b *testing.B, k driver.Kind) *runtime.Runtime {
	rt, err := runtime.New(runtime.Options{Loops: 1, Driver: k})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = rt.Close(context.Background()) })
	return rt
}

// offsets4k returns a fixed pseudo-random sequence of 4 KiB-aligned offsets.
func offsets4k(size int64, n int) []int64 {
	offs := make([]int64, n)
	x := uint64(88172645463325252)
	for i := range offs {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		offs[i] = int64(x%uint64(size/4096)) * 4096
	}
	return offs
}

type readerAt interface {
	ReadAt(p []byte, off int64) (int, error)
}

func benchReads(b *testing.B, r readerAt, size int64, buf func() []byte) {
	offs := offsets4k(size, 1<<16)
	b.SetBytes(4096)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		p := buf()
		i := 0
		for pb.Next() {
			if _, err := r.ReadAt(p, offs[i&(len(offs)-1)]); err != nil {
				b.Error(err)
				return
			}
			i += 7
		}
	})
}

func BenchmarkReadAt4K(b *testing.B) {
	name, size := benchFile(b)
	heap := func() []byte { return AlignedBuffer(4096, 4096) }
	b.Run("os", func(b *testing.B) {
		f, err := os.Open(name)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		benchReads(b, f, size, heap)
	})
	for _, k := range []driver.Kind{driver.Uring, driver.Epoll} {
		for _, mode := range []string{"fast", "ring"} {
			b.Run(string(k)+"-"+mode, func(b *testing.B) {
				rt := benchRuntime(b, k)
				f, err := OpenFileWith(context.Background(), rt, name, os.O_RDONLY, 0, OpenOptions{NoFastPath: mode == "ring"})
				if err != nil {
					b.Fatal(err)
				}
				defer f.Close()
				benchReads(b, f, size, heap)
			})
		}
	}
}

func BenchmarkReadAt4KDirect(b *testing.B) {
	name, size := benchFile(b)
	heap := func() []byte { return AlignedBuffer(4096, 4096) }
	b.Run("os", func(b *testing.B) {
		f, err := os.OpenFile(name, os.O_RDONLY|syscall.O_DIRECT, 0)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		benchReads(b, f, size, heap)
	})
	for _, k := range []driver.Kind{driver.Uring, driver.Epoll} {
		b.Run(string(k), func(b *testing.B) {
			rt := benchRuntime(b, k)
			f, err := OpenFile(context.Background(), rt, name, os.O_RDONLY|syscall.O_DIRECT, 0)
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			benchReads(b, f, size, heap)
		})
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/zokio/zokio/runtime"
	"github.com/zokio/zokio/runtime/driver"
	"github.com/zokio/zokio/runtime/zfile"
)

// The sequential-write contenders, all writing the same bytes in the same order into a
// new file, with an fsync every syncMB MiB and at the end, from one goroutine:
//
//   - os, go-uring, go-epoll: 1 MiB Write calls and Sync, one at a time.
//   - go-uring-wb, go-epoll-wb (write-behind): a zfile Batch keeps wbDepth 1 MiB
//     writes in flight, each from its own buffer; at each fsync boundary it waits for
//     the writes before it, then sends the fsync without waiting for it and goes on
//     writing; the next fsync, and the end of the run, wait for it first. So the
//     durability is the sequential contenders': each fsync covers everything before
//     its boundary, and when the run ends everything is synced.
var allWriters = []string{"os", "go-uring", "go-epoll", "go-uring-wb", "go-epoll-wb"}

// wbDepth is the writes the write-behind contenders keep in flight (flag -wb-depth).
var wbDepth = 4

type writeSample struct {
	Contender  string  `json:"contender"`
	Rep        int     `json:"rep"`
	MiB        int     `json:"mib"`
	Seconds    float64 `json:"seconds"`
	MiBps      float64 `json:"mib_per_s"`
	CPUSeconds float64 `json:"cpu_seconds"`
	CPUPerMiB  float64 `json:"cpu_per_mib"`
}

type syncWriter interface {
	Write(p []byte) (int, error)
	Sync() error
	Close() error
}

func runWriter(name, dir string, mib, syncMB int) (writeSample, error) {
	path := filepath.Join(dir, "seqwrite.tmp")
	_ = os.Remove(path)
	defer os.Remove(path)
	// Start from a quiet file system: commit the previous run's deletion and anything
	// else pending now, not during this run's first fsync.
	if d, err := os.Open(dir); err == nil {
		_ = unix.Syncfs(int(d.Fd()))
		d.Close()
	}
	return writeFile(name, path, mib, syncMB)
}

// writeFile runs one write contender into a new file at path and leaves the file there.
func writeFile(name, path string, mib, syncMB int) (writeSample, error) {
	s := writeSample{Contender: name, MiB: mib}
	var w syncWriter
	var body func() error
	if name == "os" {
		f, err := os.Create(path)
		if err != nil {
			return s, err
		}
		w = f
	} else {
		kind := driver.Uring
		if strings.Contains(name, "epoll") {
			kind = driver.Epoll
		}
		rt, err := runtime.New(runtimeOptions(kind))
		if err != nil {
			return s, err
		}
		defer rt.Close(context.Background())
		f, err := zfile.Create(context.Background(), rt, path)
		if err != nil {
			return s, err
		}
		w = f
		if strings.HasSuffix(name, "-wb") {
			body = func() error { return writeBehind(f, mib, syncMB, wbDepth) }
		}
	}
	if body == nil {
		body = func() error { return writeSequential(w, mib, syncMB) }
	}
	t0, c0 := time.Now(), cpuNow()
	if err := body(); err != nil {
		w.Close()
		return s, err
	}
	s.Seconds, s.CPUSeconds = time.Since(t0).Seconds(), cpuNow()-c0
	s.MiBps = float64(mib) / s.Seconds
	s.CPUPerMiB = s.CPUSeconds / float64(mib)
	return s, w.Close()
}

// newMiB returns a 1 MiB buffer of the contenders' data; stampMiB makes it MiB i's.
func newMiB() []byte {
	buf := make([]byte, 1<<20)
	for i := range buf {
		buf[i] = byte(i * 7)
	}
	return buf
}

// stampMiB marks buf as the file's MiB i (its first 8 bytes), so that a check of the
// file sees a MiB written twice, lost or out of place.
func stampMiB(buf []byte, i int) { binary.LittleEndian.PutUint64(buf, uint64(i)) }

// writeSequential writes mib MiB with Write, one at a time, and syncs every syncMB MiB
// and at the end.
func writeSequential(w syncWriter, mib, syncMB int) error {
	buf := newMiB()
	for i := 1; i <= mib; i++ {
		stampMiB(buf, i-1)
		if _, err := w.Write(buf); err != nil {
			return err
		}
		if i%syncMB == 0 || i == mib {
			if err := w.Sync(); err != nil {
				return err
			}
		}
	}
	return nil
}

// writeBehind writes what writeSequential does, with depth writes in flight and the
// fsyncs overlapped with the next writes (see allWriters): zfile.WriteBehind with 1 MiB
// chunks. Each of its buffers gets the pattern once, then only its stamp per MiB.
func writeBehind(f *zfile.File, mib, syncMB, depth int) error {
	pattern := newMiB()
	filled := make(map[*byte]bool, depth)
	return zfile.WriteBehind(context.Background(), f, mib, 1<<20, depth, syncMB, func(i int, buf []byte) {
		if !filled[&buf[0]] {
			copy(buf, pattern)
			filled[&buf[0]] = true
		}
		stampMiB(buf, i)
	})
}

// checkWritten reports whether the file at path holds exactly what the write
// contenders write for mib MiB.
func checkWritten(path string, mib int) error {
	got, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if len(got) != mib<<20 {
		return fmt.Errorf("%s: %d bytes, want %d", path, len(got), mib<<20)
	}
	want := newMiB()
	for i := range mib {
		stampMiB(want, i)
		if !bytes.Equal(got[i<<20:(i+1)<<20], want) {
			return fmt.Errorf("%s: MiB %d differs", path, i)
		}
	}
	return nil
}

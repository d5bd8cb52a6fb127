package main

import (
	"context"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"

	"github.com/zokio/zokio/runtime"
	"github.com/zokio/zokio/runtime/driver"
	"github.com/zokio/zokio/runtime/zfile"
)

// The sequential-write contenders: 1 MiB Write calls into a new file, Sync every
// syncMB MiB and at the end, from one goroutine.
var allWriters = []string{"os", "go-uring", "go-epoll"}

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
	s := writeSample{Contender: name, MiB: mib}
	path := filepath.Join(dir, "seqwrite.tmp")
	_ = os.Remove(path)
	defer os.Remove(path)
	// Start from a quiet file system: commit the previous run's deletion and anything
	// else pending now, not during this run's first fsync.
	if d, err := os.Open(dir); err == nil {
		_ = unix.Syncfs(int(d.Fd()))
		d.Close()
	}
	var w syncWriter
	if name == "os" {
		f, err := os.Create(path)
		if err != nil {
			return s, err
		}
		w = f
	} else {
		kind := driver.Uring
		if name == "go-epoll" {
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
	}
	buf := make([]byte, 1<<20)
	for i := range buf {
		buf[i] = byte(i * 7)
	}
	t0, c0 := time.Now(), cpuNow()
	for i := 1; i <= mib; i++ {
		if _, err := w.Write(buf); err != nil {
			w.Close()
			return s, err
		}
		if i%syncMB == 0 || i == mib {
			if err := w.Sync(); err != nil {
				w.Close()
				return s, err
			}
		}
	}
	s.Seconds, s.CPUSeconds = time.Since(t0).Seconds(), cpuNow()-c0
	s.MiBps = float64(mib) / s.Seconds
	s.CPUPerMiB = s.CPUSeconds / float64(mib)
	return s, w.Close()
}

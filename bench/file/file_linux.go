package main

import (
	"fmt"
	"io"
	"math/rand/v2"
	"os"
)

// ensureFile creates name with size bytes of pseudo-random data, written for real (an
// unwritten extent would make O_DIRECT reads return zeros without touching the
// device), unless a file of at least that size is there.
func ensureFile(name string, size int64) error {
	if fi, err := os.Stat(name); err == nil && fi.Size() >= size {
		return nil
	}
	fmt.Fprintf(os.Stderr, "creating %s (%d MiB)\n", name, size>>20)
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	r := rand.NewChaCha8([32]byte{1})
	buf := make([]byte, 1<<20)
	for off := int64(0); off < size; off += int64(len(buf)) {
		_, _ = r.Read(buf)
		if _, err := f.Write(buf); err != nil {
			f.Close()
			return err
		}
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// warmCache reads the whole file once, so the cache mode finds it in the page cache.
func warmCache(name string) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(io.Discard, f)
	return err
}

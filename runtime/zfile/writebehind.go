package zfile

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// WriteBehind writes a stream of chunks of size bytes to f, chunk i at offset i·size,
// the way a storage engine writes its log: inFlight writes in flight at once, each from
// its own buffer, and an fsync after every syncEvery chunks and after the last, each
// overlapped with the writes after it instead of waited for. fill(i, buf) puts chunk i
// (from 0) into buf, on the calling goroutine; buf is one of inFlight buffers of size
// bytes, reused once its previous write has completed, and holds what fill last put in
// it (zeroes the first time), so fill may change only what differs.
//
// Every fsync covers all the chunks before its boundary, as Write and Sync in turn
// would: at a boundary the writes before it have completed before the fsync is sent,
// and only one fsync is in flight at a time. WriteBehind returns once the last fsync has
// completed, or with the first error (a short write is io.ErrShortWrite).
func WriteBehind(ctx context.Context, f *File, chunks, size, inFlight, syncEvery int, fill func(i int, buf []byte)) (err error) {
	if f == nil || fill == nil || chunks < 0 || size <= 0 || size > maxRW || inFlight <= 0 || syncEvery <= 0 {
		return errors.New("zfile: WriteBehind: nil file or fill, or a count or size out of range")
	}
	ctx = orBackground(ctx)
	// One Batch holds the writes since the last boundary (drained there, so that it can
	// be Reset), the other the fsync in flight.
	writes, syncs := NewBatch(f.Loop()), NewBatch(f.Loop())
	defer func() {
		if err != nil { // leave no op in flight behind (their errors are not the first)
			_ = writes.Wait(context.Background())
			_ = syncs.Wait(context.Background())
		}
	}()
	bufs := make([][]byte, inFlight)
	free := make([]int, inFlight) // buffers not in flight
	for b := range bufs {
		bufs[b], free[b] = make([]byte, size), b
	}
	owner := make([]int, 0, min(syncEvery, chunks)) // a write's index in the batch → its buffer
	// reap waits for one write and frees its buffer. It runs only while writes are
	// outstanding, so Next, which fails only when none is, returns one.
	reap := func() error {
		j, _ := writes.Next(ctx)
		free = append(free, owner[j])
		switch n, err := writes.Result(j); {
		case err != nil:
			return err
		case n != size:
			return fmt.Errorf("zfile: WriteBehind: chunk wrote %d of %d bytes: %w", n, size, io.ErrShortWrite)
		}
		return nil
	}
	for i := range chunks {
		if len(free) == 0 {
			if err := reap(); err != nil {
				return err
			}
		}
		b := free[len(free)-1]
		free = free[:len(free)-1]
		fill(i, bufs[b])
		writes.WriteAt(f, bufs[b], int64(i)*int64(size))
		owner = append(owner, b)
		if err := writes.Submit(ctx); err != nil {
			return err
		}
		if (i+1)%syncEvery != 0 && i+1 != chunks {
			continue
		}
		for len(free) < inFlight { // the fsync covers every write before it
			if err := reap(); err != nil {
				return err
			}
		}
		_ = writes.Reset() // cannot fail: every write was reaped above
		owner = owner[:0]
		if err := syncs.Wait(ctx); err != nil { // the previous fsync, long done as a rule
			return err
		}
		_ = syncs.Reset() // cannot fail: Wait returned with nothing outstanding
		syncs.Sync(f)
		if err := syncs.Submit(ctx); err != nil {
			return err
		}
	}
	return syncs.Wait(ctx) // the last fsync
}

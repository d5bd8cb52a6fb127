package zfile

import (
	"context"
	"errors"
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/zokio/zokio/poller"
	"github.com/zokio/zokio/runtime"
	"github.com/zokio/zokio/uring"
)

// fixedSlots is the size of each loop's registered file table. The kernel bounds it
// by RLIMIT_NOFILE, which Go raises to the hard limit at start-up.
const fixedSlots = 4096

// fixedTable is a loop's registered file table: a sparse table registered with the
// loop's ring on first use, and a free list of its slots. It is used only on its loop
// (registration calls must come from the ring's thread: the rings are SINGLE_ISSUER).
type fixedTable struct {
	state   uint8   // tableUntried, tableReady or tableUnavailable
	free    []int32 // slots given back, reused first
	next    int32   // slots from next on were never used
	scratch [1]int32
}

const (
	tableUntried uint8 = iota
	tableReady
	tableUnavailable // no io_uring, or the ring already has a table of someone else's
)

// acquireFixed installs fd in l's table and returns its slot, or -1 when the file must
// use its plain descriptor (epoll, table full, registration refused).
func acquireFixed(ls *loopState, l *runtime.Loop, fd int) int32 {
	slot := int32(-1)
	_ = l.Call(context.Background(), func() { slot = ls.fixed.add(l, fd) })
	return slot
}

// releaseFixed empties slot. The file's ops have all completed (Close drained them).
// If the loop has stopped, its ring and table are gone and there is nothing to do.
func releaseFixed(ls *loopState, l *runtime.Loop, slot int32) {
	_ = l.Call(context.Background(), func() { ls.fixed.remove(l, slot) })
}

func ringOf(l *runtime.Loop, feat poller.Features) *uring.Ring {
	d, ok := l.Driver().(*uring.Driver)
	if !ok || !d.Info().Features.Has(feat) {
		return nil
	}
	return d.Ring()
}

func (t *fixedTable) add(l *runtime.Loop, fd int) int32 {
	r := ringOf(l, poller.FeatFixedFiles)
	if r == nil {
		return -1
	}
	if t.state == tableUntried {
		t.state = tableUnavailable
		if r.RegisterFilesSparse(fixedSlots) == nil {
			t.state = tableReady
		}
	}
	if t.state != tableReady {
		return -1
	}
	var slot int32
	switch {
	case len(t.free) > 0:
		slot = t.free[len(t.free)-1]
		t.free = t.free[:len(t.free)-1]
	case t.next < fixedSlots:
		slot = t.next
		t.next++
	default:
		return -1 // full: the file keeps its plain descriptor
	}
	t.scratch[0] = int32(fd)
	if _, err := r.RegisterFilesUpdate(uint32(slot), t.scratch[:]); err != nil {
		t.free = append(t.free, slot)
		return -1
	}
	return slot
}

func (t *fixedTable) remove(l *runtime.Loop, slot int32) {
	r := ringOf(l, poller.FeatFixedFiles)
	if r == nil {
		return
	}
	t.scratch[0] = -1
	if _, err := r.RegisterFilesUpdate(uint32(slot), t.scratch[:]); err == nil {
		t.free = append(t.free, slot) // a slot we could not empty is never reused
	}
}

// mapArena maps size bytes of private anonymous memory, populated so that the first
// reads into it do not fault page by page.
func mapArena(size int) ([]byte, error) {
	mem, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE,
		unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_POPULATE)
	if err != nil {
		return nil, fmt.Errorf("zfile: mapping a %d-byte arena: %w", size, err)
	}
	return mem, nil
}

func unmapArena(mem []byte) { _ = unix.Munmap(mem) }

var errNoFixedBuffers = fmt.Errorf("zfile: the loop's driver has no registered buffers (io_uring only): %w", errors.ErrUnsupported)

// register registers the whole arena as one buffer of a's loop's ring, on the loop
// (the rings are SINGLE_ISSUER: registration must come from their thread). The call
// does not take ctx: Loop.Call would run the registration later anyway if ctx ended
// first, and it is short.
func (a *Arena) register(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var err error
	callErr := a.l.Call(context.Background(), func() {
		r := ringOf(a.l, poller.FeatFixedBuffers)
		if r == nil {
			err = errNoFixedBuffers
			return
		}
		err = r.RegisterBuffers([][]byte{a.mem})
	})
	if callErr != nil {
		return callErr
	}
	if errors.Is(err, syscall.ENOMEM) {
		var lim unix.Rlimit
		_ = unix.Getrlimit(unix.RLIMIT_MEMLOCK, &lim)
		return &MemlockError{Have: lim.Cur, Need: uint64(len(a.mem)), Err: err}
	}
	if err != nil {
		return err
	}
	a.index = 0
	a.regState.Store(true)
	listArena(a, true)
	return nil
}

// unregister takes the arena out of the lookup list, then out of the ring. If the loop
// has stopped, its ring is gone and so is the registration.
func (a *Arena) unregister() {
	listArena(a, false)
	a.regState.Store(false)
	_ = a.l.Call(context.Background(), func() {
		if r := ringOf(a.l, poller.FeatFixedBuffers); r != nil {
			_ = r.UnregisterBuffers()
		}
	})
}

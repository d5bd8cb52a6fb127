package zfile

import (
	"context"

	"github.com/zokio/zokio/internal/slots"
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
	state   uint8 // tableUntried, tableReady or tableUnavailable
	slots   slots.Table
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

func (t *fixedTable) add(l *runtime.Loop, fd int) int32 {
	r := uring.RingOf(l.Driver(), poller.FeatFixedFiles)
	if r == nil {
		return -1
	}
	if t.state == tableUntried {
		t.state = tableUnavailable
		if r.RegisterFilesSparse(fixedSlots) == nil {
			t.state = tableReady
			t.slots.Size = fixedSlots
		}
	}
	if t.state != tableReady {
		return -1
	}
	slot, ok := t.slots.Get()
	if !ok {
		return -1 // full: the file keeps its plain descriptor
	}
	t.scratch[0] = int32(fd)
	if _, err := r.RegisterFilesUpdate(uint32(slot), t.scratch[:]); err != nil {
		t.slots.Put(slot)
		return -1
	}
	return int32(slot)
}

func (t *fixedTable) remove(l *runtime.Loop, slot int32) {
	r := uring.RingOf(l.Driver(), poller.FeatFixedFiles)
	if r == nil {
		return
	}
	t.scratch[0] = -1
	if _, err := r.RegisterFilesUpdate(uint32(slot), t.scratch[:]); err == nil {
		t.slots.Put(int(slot)) // a slot we could not empty is never reused
	}
}

package main

import (
	"errors"
	"fmt"

	"github.com/pawelgaczynski/giouring"
	"github.com/zokio/zokio/uring"
)

// The Go contenders. Each one owns a ring of the same size and runs the same
// rounds: prepare batch NOPs (user_data = a running sequence number), one
// submit-and-wait for batch completions, read every CQE (res must be 0; the
// user_data values are summed so the caller can check that each arrived
// exactly once), then free the CQ slots with one head store. Each loop uses
// its library's fastest correct path; the differences are listed in
// bench/README.md under "Asymmetries".

var errShort = errors.New("fewer CQEs than waited for")

// loop is one contender's ring, set up and ready to run rounds.
type loop interface {
	// rounds runs ops/batch rounds and returns the sum of the user_data
	// values it reaped.
	rounds(ops uint64) (uint64, error)
	close()
}

// oursLoop drives Zokio's uring binding the way the driver does: NextSQE,
// PrepNop, SetUserData, SubmitAndWait with no timeout, PeekCQEs into a
// caller-owned slice (one copy of each CQE and one CQ head store).
type oursLoop struct {
	r     *uring.Ring
	batch uint32
	cqes  []uring.CQE
	seq   uint64
}

func newOurs(entries, batch uint32) (loop, error) {
	r, err := uring.New(uring.Config{Entries: entries})
	if err != nil {
		return nil, err
	}
	return &oursLoop{r: r, batch: batch, cqes: make([]uring.CQE, batch)}, nil
}

func (l *oursLoop) rounds(ops uint64) (uint64, error) {
	r, batch, cqes, seq := l.r, l.batch, l.cqes, l.seq
	defer func() { l.seq = seq }()
	var sum uint64
	for done := uint64(0); done < ops; done += uint64(batch) {
		for range batch {
			s := r.NextSQE()
			if s == nil {
				return sum, errors.New("uring: SQ full")
			}
			s.PrepNop()
			s.SetUserData(seq)
			seq++
		}
		if _, err := r.SubmitAndWait(batch, -1); err != nil {
			return sum, fmt.Errorf("uring SubmitAndWait: %w", err)
		}
		n := r.PeekCQEs(cqes)
		if n != int(batch) {
			return sum, fmt.Errorf("uring: %w: %d of %d", errShort, n, batch)
		}
		for i := range cqes[:n] {
			c := &cqes[i]
			if c.Res != 0 {
				return sum, fmt.Errorf("uring: NOP completed with %d", c.Res)
			}
			sum += c.UserData
		}
	}
	return sum, nil
}

func (l *oursLoop) close() { l.r.Close() }

// giouringLoop drives giouring with its cheapest calls: GetSQE (no zeroing),
// PrepareNop, SetData64, SubmitAndWait (one io_uring_enter with GETEVENTS),
// PeekBatchCQE into a slice of CQE pointers (no copy), CQAdvance once.
type giouringLoop struct {
	r     *giouring.Ring
	batch uint32
	cqes  []*giouring.CompletionQueueEvent
	seq   uint64
}

func newGiouring(entries, batch uint32) (loop, error) {
	r, err := giouring.CreateRing(entries)
	if err != nil {
		return nil, fmt.Errorf("giouring CreateRing: %w", err)
	}
	return &giouringLoop{r: r, batch: batch, cqes: make([]*giouring.CompletionQueueEvent, batch)}, nil
}

func (l *giouringLoop) rounds(ops uint64) (uint64, error) {
	r, batch, cqes, seq := l.r, l.batch, l.cqes, l.seq
	defer func() { l.seq = seq }()
	var sum uint64
	for done := uint64(0); done < ops; done += uint64(batch) {
		for range batch {
			s := r.GetSQE()
			if s == nil {
				return sum, errors.New("giouring: SQ full")
			}
			s.PrepareNop()
			s.SetData64(seq)
			seq++
		}
		if _, err := r.SubmitAndWait(batch); err != nil {
			return sum, fmt.Errorf("giouring SubmitAndWait: %w", err)
		}
		n := r.PeekBatchCQE(cqes)
		if n != batch {
			return sum, fmt.Errorf("giouring: %w: %d of %d", errShort, n, batch)
		}
		for _, c := range cqes[:n] {
			if c.Res != 0 {
				return sum, fmt.Errorf("giouring: NOP completed with %d", c.Res)
			}
			sum += c.UserData
		}
		r.CQAdvance(n)
	}
	return sum, nil
}

func (l *giouringLoop) close() { l.r.QueueExit() }

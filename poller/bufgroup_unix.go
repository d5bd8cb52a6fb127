//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package poller

import (
	"math"

	"github.com/zokio/zokio/internal/bufgroup"
)

// emulGroup is the readiness drivers' BufferGroup: the shared group of
// internal/bufgroup (count buffers in one mapping outside the Go heap, handed out FIFO,
// stray releases ignored), seen through the names the readiness core uses. A nil
// *emulGroup (an unknown Op.Group) has no free buffers.
//
// An emulGroup is used only by the goroutine that owns its driver. Its memory is
// unmapped by the driver's Close; every view from Bytes is invalid from then on.
type emulGroup struct {
	*bufgroup.Group
	size int // each buffer's size, as the core reads it
}

var _ BufferGroup = (*emulGroup)(nil)

// newGroup creates buffer group id (see Driver.NewBufferGroup).
func newGroup(id uint16, count, size int) (*emulGroup, error) {
	g, err := bufgroup.New(id, count, size)
	if err != nil {
		return nil, err
	}
	return &emulGroup{g, size}, nil
}

// peekN fills ids with the next free ids, in the order take hands them out.
func (g *emulGroup) peekN(ids []uint16) int {
	if g == nil {
		return 0
	}
	return g.PeekN(ids)
}

func (g *emulGroup) take()                 { g.Take() }
func (g *emulGroup) view(id uint16) []byte { return g.View(id) }

func (g *emulGroup) free() {
	if g != nil {
		g.Free()
	}
}

// newBufferGroup implements Driver.NewBufferGroup. Group ids start at 1, so that a
// zero Op.Group names no group (Submit refuses its receives).
func (e *emul) newBufferGroup(count, size int) (BufferGroup, error) {
	if e.closed {
		return nil, ErrClosed
	}
	if len(e.groups) == 0 {
		e.groups = append(e.groups, nil)
	}
	if len(e.groups) > math.MaxUint16 {
		return nil, bufgroup.ErrTooMany
	}
	g, err := newGroup(uint16(len(e.groups)), count, size)
	if err != nil {
		return nil, err
	}
	e.groups = append(e.groups, g)
	return g, nil
}

//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package poller

import "github.com/zokio/zokio/internal/timerheap"

// timerHeap is the readiness core's view of the shared timer heap (internal/timerheap,
// which the IOCP driver uses too), keyed by slot index.
//
// A timerHeap is used only by the loop that owns it.
type timerHeap struct{ h timerheap.Heap }

func (t *timerHeap) len() int                              { return t.h.Len() }
func (t *timerHeap) push(id int32, when int64)             { t.h.Push(id, when) }
func (t *timerHeap) peek() (id int32, when int64, ok bool) { return t.h.Peek() }
func (t *timerHeap) remove(id int32) bool                  { return t.h.Remove(id) }

package znet

import (
	"context"

	"github.com/zokio/zokio/runtime"
)

// sendArenaBuf is the size of a send-arena buffer (Config.SendArena): keepCap, the
// most output a drained connection keeps anyway.
const sendArenaBuf = keepCap

// sendArena is a server loop's arena of send buffers (Config.SendArena). Used only on
// its loop. It counts the buffers its connections hold, so that once the server loop
// has stopped the arena is closed (unmapped) when the last one comes back.
type sendArena struct {
	a        *runtime.Arena
	held     int
	stopping bool
}

func newSendArena(l *runtime.Loop, count int) (*sendArena, error) {
	a, err := runtime.NewArena(context.Background(), l, runtime.ArenaOptions{
		BufSize: sendArenaBuf, Count: count, Register: runtime.RegisterAuto})
	if err != nil {
		return nil, err
	}
	return &sendArena{a: a}, nil
}

// get returns a free buffer, or nil when there is none.
func (s *sendArena) get() []byte {
	if s.stopping {
		return nil
	}
	b := s.a.Get()
	if b != nil {
		s.held++
	}
	return b
}

// put gives back a buffer get returned; no op may use it any more.
func (s *sendArena) put(b []byte) {
	_ = s.a.Put(b[:0])
	s.held--
	s.closeIfDone()
}

// stop closes the arena now, or when its connections have given every buffer back.
func (s *sendArena) stop() {
	s.stopping = true
	s.closeIfDone()
}

func (s *sendArena) closeIfDone() {
	if s.stopping && s.held == 0 && s.a != nil {
		_ = s.a.Close()
		s.a = nil
	}
}

// dropArenaBufs gives back the arena buffers of a connection that has ended (none of
// its ops is in flight).
func (c *Conn) dropArenaBufs() {
	if c.flags&flagOutArena != 0 {
		c.sa.put(c.out)
	}
	if c.flags&flagPendArena != 0 {
		c.sa.put(c.pend)
	}
	if c.flags&flagZbufArena != 0 {
		c.sa.put(c.zbuf)
		c.zbuf = nil
	}
	c.flags &^= flagOutArena | flagPendArena | flagZbufArena | flagOutHeld
}

// SendArenaErr reports why the server's send arenas (Config.SendArena) are not
// registered with their rings: nil when they are on every loop, or when the server
// has none; otherwise the first loop's reason (a *runtime.MemlockError, an error
// wrapping errors.ErrUnsupported on the epoll driver, or the kernel's error). The
// arenas serve unregistered meanwhile.
func (s *Server) SendArenaErr() error {
	for _, sl := range s.loops {
		if sl.saErr != nil {
			return sl.saErr
		}
	}
	return nil
}

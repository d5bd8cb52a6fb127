package znet

import (
	"bytes"
	"fmt"
	"math/rand"
	"net"
	"testing"
	"time"

	"github.com/zokio/zokio/runtime"
)

// keeper retains every piece it is handed, with a copy of its bytes, and every keepBatch
// pieces checks that each retained piece still holds its bytes, then releases them
// in random order. Where the driver fills a buffer a part at a time, the pieces of
// one buffer are retained and released independently; a buffer that went back to
// the kernel while one of its pieces was still held would be overwritten by later
// receives, which the check catches.
// keepBatch is below the group's 8 buffers: where every piece takes a whole buffer,
// holding 8 would leave none for the receive that brings the next.
const keepBatch = 6

type keeper struct {
	echoHandler
	rnd      *rand.Rand
	kept     []Retained
	copies   [][]byte
	total    int
	want     int
	maxShare uint32 // most retained pieces seen in one buffer
	inc      bool   // the group fills buffers a part at a time
	bad      int
	done     chan [3]int // bad pieces, most pieces of one buffer, incremental (1)
}

func (h *keeper) OnData(c *Conn, b []byte) {
	r := c.Retain()
	h.kept = append(h.kept, r)
	h.copies = append(h.copies, bytes.Clone(b))
	h.total += len(b)
	g := c.g
	if ig, ok := g.g.(interface{ Incremental() bool }); ok && ig.Incremental() {
		h.inc = true
	}
	h.maxShare = max(h.maxShare, g.bufRet[g.slots[r.id].buf])
	if len(h.kept) >= keepBatch || h.total == h.want {
		for i := range h.kept {
			if !bytes.Equal(h.kept[i].Bytes(), h.copies[i]) {
				h.bad++
			}
		}
		for _, i := range h.rnd.Perm(len(h.kept)) {
			h.kept[i].Release()
		}
		h.kept, h.copies = h.kept[:0], h.copies[:0]
	}
	if h.total == h.want {
		inc := 0
		if h.inc {
			inc = 1
		}
		h.done <- [3]int{h.bad, int(h.maxShare), inc}
	}
}

func TestRetainedPiecesShareBuffers(t *testing.T) {
	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		const conns, msgs, size = 8, 200, 37
		h := &keeper{echoHandler: *newEcho(), rnd: rand.New(rand.NewSource(1)), want: conns * msgs * size,
			done: make(chan [3]int, 1)}
		// A small group, so that buffers cycle many times while pieces are held.
		srv := serveEcho(t, rt, h, Config{Handler: h, RecvBuffers: 8, RecvBufferSize: 4096})
		for i := 0; i < conns; i++ {
			c, err := net.Dial("tcp", srv.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			go func(c net.Conn, i int) {
				for j := 0; j < msgs; j++ {
					msg := fmt.Sprintf("%03d:%05d:%s", i, j, bytes.Repeat([]byte{'a' + byte(j%26)}, size-10))
					if _, err := c.Write([]byte(msg)); err != nil {
						return
					}
				}
			}(c, i)
		}
		select {
		case r := <-h.done:
			t.Logf("%d bad pieces; at most %d retained pieces in one buffer (incremental: %d)", r[0], r[1], r[2])
			if r[0] != 0 {
				t.Fatalf("%d retained pieces changed while held", r[0])
			}
			if r[2] == 1 && r[1] < 2 {
				t.Errorf("incremental buffers, but no two retained pieces ever shared a buffer: the test did not test")
			}
		case <-time.After(testDeadline):
			t.Fatalf("received %d of %d bytes\n%s", h.total, h.want, hung())
		}
	})
}

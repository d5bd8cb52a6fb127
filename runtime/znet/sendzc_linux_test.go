package znet

import (
	"bytes"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/zokio/zokio/internal/testkit"
	"github.com/zokio/zokio/poller"
	"github.com/zokio/zokio/runtime/driver"
)

// zcCounter is an echo that counts its connections' zero-copy sends.
type zcCounter struct {
	echoHandler
	zsends atomic.Uint64
}

func (h *zcCounter) OnClose(c *Conn, err error) {
	h.zsends.Add(uint64(c.zsends))
	h.echoHandler.OnClose(c, err)
}

// TestSendZC runs echo streams with SEND_ZC from 1 KiB up (loopback allowed for the
// test): the data oracle holds, zero-copy sends happen, and copy sends go on while
// one awaits its notification.
func TestSendZC(t *testing.T) {
	if !slices.Contains(testkit.Drivers(t), driver.Uring) {
		t.Skip("io_uring unavailable")
	}
	zcLocal = true
	defer func() { zcLocal = false }()
	rt := newRuntime(t, driver.Uring, 1)
	var feat poller.Features
	rt.Loops()[0].Call(ctxT(t), func() { feat = rt.Loops()[0].Driver().Info().Features })
	if !feat.Has(poller.FeatSendZC) {
		t.Skip("driver without SEND_ZC")
	}
	h := &zcCounter{echoHandler: *newEcho()}
	s := serveEcho(t, rt, h, Config{SendZCThreshold: 1024})
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := dialStd(t, s)
			defer c.Close()
			oracleStream(t, c, uint64(i), 300, 20000)
		}()
	}
	wg.Wait()
	c := dialStd(t, s)
	msg := bytes.Repeat([]byte("zero-copy"), 1<<17)
	go c.Write(msg)
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("large echo: %v", err)
	}
	c.Close()
	for i := 0; i < 9; i++ {
		recvErr(t, h.closed)
	}
	if h.zsends.Load() == 0 {
		t.Fatal("no zero-copy send was made")
	}
	t.Logf("%d zero-copy sends", h.zsends.Load())
}

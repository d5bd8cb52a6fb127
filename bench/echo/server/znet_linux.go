package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/zokio/zokio/runtime"
	"github.com/zokio/zokio/runtime/driver"
	"github.com/zokio/zokio/runtime/znet"
	"github.com/zokio/zokio/sqpoll"
)

// znetEcho is the echo of `zokio echo`: write back what arrives. Everything OnData
// writes leaves in one send when it returns; Write does not fail for an echo (the
// connection stops reading past half its write-buffer limit instead).
type znetEcho struct{}

func (znetEcho) OnOpen(*znet.Conn) {}
func (znetEcho) OnData(c *znet.Conn, b []byte) {
	if _, err := c.Write(b); err != nil {
		_ = c.Close()
	}
}
func (znetEcho) OnClose(*znet.Conn, error) {}

// znetForward echoes without copying: it hands the received buffer itself to the
// send queue (Conn.WriteRetained), which gives it back to the receive group once sent.
type znetForward struct{ znetEcho }

func (znetForward) OnData(c *znet.Conn, b []byte) {
	r := c.Retain()
	if _, err := c.WriteRetained(&r); err != nil {
		r.Release()
		_ = c.Close()
	}
}

// Knobs of -impl=znet for experiments; the contenders run the defaults.
var (
	znetSpin   = flag.Duration("znet-spin", 0, "-impl=znet: runtime.Options.SpinBeforePark")
	znetAccept = flag.String("znet-accept", "auto", "-impl=znet: auto, reuseport or handoff")
	znetLoops  = flag.Int("znet-loops", 1, "-impl=znet: loops")
	znetSQ     = flag.String("znet-sqpoll", "default", "-impl=znet: SQPOLL mode, off, perring or shared (default: ZOKIO_SQPOLL, else off)")
	znetSQIdle = flag.Duration("znet-sqidle", 0, "-impl=znet: SQ thread idle time (0: sqpoll.DefaultIdle)")
	znetBatch  = flag.Duration("znet-batchwait", 0, "-impl=znet: runtime.Options.BatchWait")
	znetFwd    = flag.Bool("znet-forward", false, "-impl=znet: echo with Conn.WriteRetained (no copy)")
	znetZC     = flag.Int("znet-zc", 0, "-impl=znet: Config.SendZCThreshold (0: znet's default)")
	znetZCLoc  = flag.Bool("znet-zclocal", false, "-impl=znet: Config.SendZCLocal")
	znetArena  = flag.Int("znet-sendarena", 0, "-impl=znet: Config.SendArena (64 KiB send buffers per loop)")
	znetUnlock = flag.Bool("znet-unlocked", false, "-impl=znet and znetconn: runtime.Options.UnlockedLoops")
)

// runZnet serves with Zokio's runtime and its event API (package runtime/znet): one
// loop (the server has one CPU), on the driver -driver names; -buffers and -bufsize
// size the loop's receive group (0: znet's default for the driver, 64 × 64 KiB
// where it consumes buffers incrementally, else 1024 × 16 KiB).
func runZnet(o options) error {
	kind, err := driver.ParseKind(o.driver)
	if err != nil {
		return err
	}
	mode := znet.AcceptAuto
	switch *znetAccept {
	case "reuseport":
		mode = znet.AcceptReusePort
	case "handoff":
		mode = znet.AcceptHandoff
	}
	sqm, err := sqpoll.ParseMode(*znetSQ)
	if err != nil {
		return err
	}
	rt, err := runtime.New(runtime.Options{Loops: *znetLoops, Driver: kind, RingEntries: uint32(o.entries),
		SpinBeforePark: *znetSpin, BatchWait: *znetBatch, UnlockedLoops: *znetUnlock, SQPoll: sqpoll.Config{Mode: sqm, Idle: *znetSQIdle}})
	if err != nil {
		return err
	}
	if d := rt.SQPoll(); sqm != sqpoll.Default && d.Mode != sqm {
		_ = rt.Close(context.Background())
		return fmt.Errorf("SQPOLL %v asked, the runtime runs %v: %s", sqm, d.Mode, d.Reason)
	}
	kernelEnters = func() uint64 {
		var n uint64
		for _, s := range rt.Stats() {
			n += s.KernelEnters
		}
		return n
	}
	var h znet.Handler = znetEcho{}
	if *znetFwd {
		h = znetForward{}
	}
	srv, err := znet.Serve(context.Background(), rt, "tcp4", o.addr,
		znet.Config{Handler: h, RecvBuffers: o.buffers, RecvBufferSize: o.bufSize, Accept: mode,
			SendZCThreshold: *znetZC, SendZCLocal: *znetZCLoc, SendArena: *znetArena})
	if err != nil {
		_ = rt.Close(context.Background())
		return err
	}
	if err := srv.SendArenaErr(); *znetArena > 0 && err != nil {
		_ = rt.Close(context.Background())
		return fmt.Errorf("the send arena is not registered: %w", err)
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	serveCommands(o.cpuprofile)
	ready(srv.Addr().String())
	<-stop
	recv := recvStats(rt)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = srv.Close(ctx)
	if cerr := rt.Close(ctx); err == nil {
		err = cerr
	}
	exitStats(map[string]any{"impl": "znet", "driver": string(rt.Driver().Kind), "sqpoll": rt.SQPoll(), "loops": rt.Stats(), "recv": recv})
	return err
}

// recvStats sums the event API's receive counters over rt's loops, each read on
// its own loop (znet.LoopRecvStats); a loop that does not answer within a second
// is left out.
func recvStats(rt *runtime.Runtime) znet.RecvStats {
	var sum znet.RecvStats
	for _, l := range rt.Loops() {
		ch := make(chan znet.RecvStats, 1)
		if l.Post(func() { ch <- znet.LoopRecvStats(l) }) != nil {
			continue
		}
		select {
		case s := <-ch:
			sum.Pieces += s.Pieces
			sum.Bytes += s.Bytes
			sum.Arms += s.Arms
			sum.Ends += s.Ends
			sum.NoBufs += s.NoBufs
			sum.Starved += s.Starved
			sum.Grows += s.Grows
		case <-time.After(time.Second):
		}
	}
	return sum
}

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

// Knobs of -impl=znet for experiments; the contenders run the defaults.
var (
	znetSpin   = flag.Duration("znet-spin", 0, "-impl=znet: runtime.Options.SpinBeforePark")
	znetAccept = flag.String("znet-accept", "auto", "-impl=znet: auto, reuseport or handoff")
	znetLoops  = flag.Int("znet-loops", 1, "-impl=znet: loops")
	znetSQ     = flag.String("znet-sqpoll", "default", "-impl=znet: SQPOLL mode, off, perring or shared (default: ZOKIO_SQPOLL, else off)")
	znetSQIdle = flag.Duration("znet-sqidle", 0, "-impl=znet: SQ thread idle time (0: sqpoll.DefaultIdle)")
	znetBatch  = flag.Duration("znet-batchwait", 0, "-impl=znet: runtime.Options.BatchWait")
)

// runZnet serves with Zokio's runtime and its event API (package runtime/znet): one
// loop (the server has one CPU), on the driver -driver names; -buffers and -bufsize
// size the loop's receive group (0: znet's defaults, 1024 × 16 KiB).
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
		SpinBeforePark: *znetSpin, BatchWait: *znetBatch, SQPoll: sqpoll.Config{Mode: sqm, Idle: *znetSQIdle}})
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
	srv, err := znet.Serve(context.Background(), rt, "tcp4", o.addr,
		znet.Config{Handler: znetEcho{}, RecvBuffers: o.buffers, RecvBufferSize: o.bufSize, Accept: mode})
	if err != nil {
		_ = rt.Close(context.Background())
		return err
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	serveCommands(o.cpuprofile)
	ready(srv.Addr().String())
	<-stop
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = srv.Close(ctx)
	if cerr := rt.Close(ctx); err == nil {
		err = cerr
	}
	exitStats(map[string]any{"impl": "znet", "driver": string(rt.Driver().Kind), "sqpoll": rt.SQPoll(), "loops": rt.Stats()})
	return err
}

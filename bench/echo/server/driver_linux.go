package main

import (
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"

	"github.com/zokio/zokio/bench/echo/driverecho"
	"github.com/zokio/zokio/poller"
	"github.com/zokio/zokio/uring"
)

// runDriver serves on package driverecho: one goroutine, locked to its thread,
// owning one driver.
func runDriver(o options) error {
	if o.lockThread || o.deferTask {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
	}
	d, err := newDriver(o)
	if err != nil {
		return err
	}
	lfd, addr, err := driverecho.Listen(o.addr, 4096)
	if err != nil {
		d.Close()
		return err
	}
	srv, err := driverecho.New(d, lfd, driverecho.Config{Buffers: o.buffers, BufferSize: o.bufSize})
	if err != nil {
		d.Close()
		unix.Close(lfd)
		return err
	}
	onSignal(srv.Stop)
	serveCommands(o.cpuprofile)
	ready(addr)
	serveErr := srv.Serve()
	extra := map[string]any{"impl": "driver", "driver": d.Info().Name, "server": srv.Stats()}
	if sr, ok := d.(poller.StatsReporter); ok {
		extra["driver_stats"] = sr.Stats()
	}
	closeErr := d.Close()
	unix.Close(lfd)
	exitStats(extra)
	if serveErr != nil {
		return serveErr
	}
	return closeErr
}

func newDriver(o options) (poller.Driver, error) {
	switch o.driver {
	case "uring":
		cfg := uring.DriverConfig{Entries: uint32(o.entries)}
		if o.deferTask {
			cfg.Flags |= uring.SetupSingleIssuer | uring.SetupDeferTaskrun
		}
		return uring.NewDriver(cfg)
	case "epoll":
		return poller.NewEpoll(poller.EpollConfig{})
	}
	return nil, fmt.Errorf("-driver=%q: want uring or epoll", o.driver)
}

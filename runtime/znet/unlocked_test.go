package znet

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"

	"github.com/zokio/zokio/internal/testkit"
	"github.com/zokio/zokio/runtime"
)

// TestAdapterEchoUnlockedLoops: the net.Conn adapters on a runtime whose loops are
// not locked to their threads (runtime.Options.UnlockedLoops; on io_uring, rings
// without SINGLE_ISSUER and DEFER_TASKRUN) carry a goroutine-per-connection echo of
// small and large messages on several connections at once, byte for byte.
func TestAdapterEchoUnlockedLoops(t *testing.T) {
	for _, k := range testkit.Drivers(t) {
		t.Run(string(k), func(t *testing.T) {
			before := testkit.FDCount(t)
			rt, err := runtime.New(runtime.Options{Loops: 1, Driver: k, UnlockedLoops: true})
			if err != nil {
				t.Fatalf("runtime.New(%s): %v", k, err)
			}
			live.Track(t, rt)
			t.Cleanup(func() {
				ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
				defer cancel()
				if err := rt.Close(ctx); err != nil {
					t.Errorf("runtime Close: %v", err)
				}
				waitFds(t, before)
			})
			if cpu := rt.Loops()[0].CPU(); cpu != -1 {
				t.Fatalf("an unlocked loop is pinned to CPU %d", cpu)
			}
			ln := listenT(t, rt, "tcp", "127.0.0.1:0")
			var servers sync.WaitGroup
			defer servers.Wait()
			go func() {
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					servers.Add(1)
					go func() {
						defer servers.Done()
						defer c.Close()
						_, _ = io.Copy(c, c)
					}()
				}
			}()
			const conns = 8
			errs := make(chan error, conns)
			for i := range conns {
				c := dialT(t, rt, "tcp", ln.Addr().String())
				go func() { errs <- echoRounds(c, i) }()
			}
			for range conns {
				if err := <-errs; err != nil {
					t.Error(err)
				}
			}
			_ = ln.Close()
		})
	}
}

// echoRounds writes messages of growing sizes on c and reads each back.
func echoRounds(c net.Conn, seed int) error {
	defer c.Close()
	for round, size := range []int{1, 64, 4096, 100 << 10, 64} {
		msg := make([]byte, size)
		for j := range msg {
			msg[j] = byte(seed*31 + round*7 + j)
		}
		werr := make(chan error, 1)
		go func() { _, err := c.Write(msg); werr <- err }()
		got := make([]byte, size)
		if _, err := io.ReadFull(c, got); err != nil {
			return fmt.Errorf("conn %d round %d: read: %w\n%s", seed, round, err, hung())
		}
		if err := <-werr; err != nil {
			return fmt.Errorf("conn %d round %d: write: %w", seed, round, err)
		}
		if !bytes.Equal(got, msg) {
			return fmt.Errorf("conn %d round %d: the echo differs", seed, round)
		}
	}
	return nil
}

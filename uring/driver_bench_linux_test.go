package uring

import (
	"fmt"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/zokio/zokio/poller"
)

// BenchmarkDriverNop measures the driver's own cost over the binding's: submit a batch
// of NOP ops through poller.Driver and deliver their completions.
func BenchmarkDriverNop(b *testing.B) {
	for _, batch := range []int{1, 32, 256} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			d, err := NewDriver(DriverConfig{Entries: 256})
			if err != nil {
				b.Fatal(err)
			}
			defer d.Close()
			done := 0
			ops := make([]poller.Op, batch)
			for i := range ops {
				ops[i] = poller.Op{Code: poller.OpNop, Done: func(*poller.Op) { done++ }}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				done = 0
				for j := range ops {
					if err := d.Submit(&ops[j]); err != nil {
						b.Fatal(err)
					}
				}
				for done < batch {
					if _, err := d.Wait(-1); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/nop")
		})
	}
}

// BenchmarkDriverPingPong sends 64 bytes one way and back over a socket pair, each
// direction a send and a recv op through the driver.
func BenchmarkDriverPingPong(b *testing.B) {
	d, err := NewDriver(DriverConfig{})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	p, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	msg, buf := make([]byte, 64), make([]byte, 64)
	done := 0
	count := func(*poller.Op) { done++ }
	ops := []*poller.Op{
		{Code: poller.OpRecv, Fd: p[1], Buf: buf, Done: count},
		{Code: poller.OpSend, Fd: p[0], Buf: msg, Done: count},
		{Code: poller.OpRecv, Fd: p[0], Buf: buf, Done: count},
		{Code: poller.OpSend, Fd: p[1], Buf: msg, Done: count},
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		for half := 0; half < 4; half += 2 {
			done = 0
			_ = d.Submit(ops[half])
			_ = d.Submit(ops[half+1])
			for done < 2 {
				if _, err := d.Wait(-1); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
}

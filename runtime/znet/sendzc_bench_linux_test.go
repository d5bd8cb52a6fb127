package znet

import (
	"fmt"
	"io"
	"net"
	goruntime "runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/zokio/zokio/poller"
	"github.com/zokio/zokio/uring"
)

// BenchmarkSendZC measures what Config.SendZCThreshold rests on: one TCP stream over
// loopback, sent one buffer at a time with IORING_OP_SEND (the kernel copies the
// buffer) or IORING_OP_SEND_ZC (it pins the pages; the buffer is ours again at the
// notification), for sizes from 4 KiB to 1 MiB, with a reader draining the other
// end. It reports bytes/s and the sending process's CPU time per op (user+system of
// the whole process: the reader's copy-out is in it, the same for both modes).
//
//	go test -run '^$' -bench SendZC -benchtime 2s ./runtime/znet/
func BenchmarkSendZC(b *testing.B) {
	for _, size := range []int{4 << 10, 16 << 10, 64 << 10, 256 << 10, 1 << 20} {
		for _, zc := range []bool{false, true} {
			mode := "send"
			if zc {
				mode = "sendzc"
			}
			b.Run(fmt.Sprintf("size=%d/%s", size, mode), func(b *testing.B) { benchSend(b, size, zc) })
		}
	}
}

func benchSend(b *testing.B, size int, zc bool) {
	goruntime.LockOSThread()
	defer goruntime.UnlockOSThread()
	d, err := uring.NewDriver(uring.DriverConfig{})
	if err != nil {
		b.Skip(err)
	}
	defer d.Close()
	if zc && !d.Info().Features.Has(poller.FeatSendZC) {
		b.Skip("no SEND_ZC")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		io.Copy(io.Discard, c)
		c.Close()
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	raw, _ := c.(*net.TCPConn).SyscallConn()
	var fd int
	raw.Control(func(f uintptr) { fd = int(f) })
	buf := make([]byte, size)
	done := false
	op := poller.Op{Code: poller.OpSend, Fd: fd, Buf: buf, Arg: unix.MSG_NOSIGNAL | unix.MSG_WAITALL,
		Done: func(op *poller.Op) {
			if !op.More() {
				done = true
			}
		}}
	if zc {
		op.Code = poller.OpSendZC
	}
	var ru0, ru1 unix.Rusage
	unix.Getrusage(unix.RUSAGE_SELF, &ru0)
	b.SetBytes(int64(size))
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		done = false
		if err := d.Submit(&op); err != nil {
			b.Fatal(err)
		}
		for !done {
			if _, err := d.Wait(-1); err != nil {
				b.Fatal(err)
			}
		}
		if op.Res < 0 && op.Result&poller.ResNotif == 0 {
			b.Fatalf("send: %v", op.Err())
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	unix.Getrusage(unix.RUSAGE_SELF, &ru1)
	cpu := time.Duration(ru1.Utime.Nano()+ru1.Stime.Nano()-ru0.Utime.Nano()-ru0.Stime.Nano()) * time.Nanosecond
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(cpu)/float64(elapsed), "cpus")
	c.Close()
}

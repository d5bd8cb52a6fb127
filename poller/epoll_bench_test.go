//go:build linux

package poller

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// BenchmarkEpollArm measures the registration strategies on a socketpair ping-pong:
// each round a recv waits on one end (EAGAIN, then readiness), the other end sends one
// byte, and then the roles swap, so a round has two waiting recvs and two sends. It
// reports epoll_ctl calls per round ("ctl/op") beside ns/op. On the development
// machine (Linux 6.18, 2 vCPUs, go test -bench EpollArm -count=10, medians):
//
//	edge          8.3 µs/round  0 ctl  (one EPOLL_CTL_ADD per descriptor, ever)
//	edge-checked  9.2 µs/round  2 ctl  (EPOLL_CTL_ADD → EEXIST per waiting op)
//	oneshot       9.2 µs/round  2 ctl  (EPOLL_CTL_MOD per waiting op)
//
// Edge-triggered registration once per descriptor is about 10% faster and is the
// default; the other modes stay selectable for this benchmark and the mode tests.
func BenchmarkEpollArm(b *testing.B) {
	for _, m := range []struct {
		name string
		mode armMode
	}{{"edge", armEdge}, {"edge-checked", armEdgeChecked}, {"oneshot", armOneshot}} {
		b.Run(m.name, func(b *testing.B) {
			d := newTestEpoll(b, EpollConfig{mode: m.mode})
			x, y := socketpair(b)
			pp := newPingPong(d, x, y)
			pp.round(b) // registers both descriptors
			before := d.ctlCalls
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				pp.round(b)
			}
			b.StopTimer()
			b.ReportMetric(float64(d.ctlCalls-before)/float64(b.N), "ctl/op")
		})
	}
}

// pingPong is a socketpair round trip through the driver: recv on one end before the
// peer's send, both directions, with ops reused so steady state allocates nothing.
type pingPong struct {
	d            *Epoll
	rx, tx       [2]Op
	rbuf, tbuf   [2][]byte
	done         int
	fds          [2]int
	failed       bool
	doneCallback func(*Op)
}

func newPingPong(d *Epoll, x, y int) *pingPong {
	p := &pingPong{d: d, fds: [2]int{x, y}}
	p.doneCallback = func(op *Op) {
		if op.Res != 1 {
			p.failed = true
		}
		p.done++
	}
	for i := range 2 {
		p.rbuf[i], p.tbuf[i] = make([]byte, 1), []byte{byte('a' + i)}
		p.rx[i] = Op{Code: OpRecv, Fd: p.fds[i], Buf: p.rbuf[i], Done: p.doneCallback}
		p.tx[i] = Op{Code: OpSend, Fd: p.fds[1-i], Buf: p.tbuf[i], Done: p.doneCallback}
	}
	return p
}

func (p *pingPong) round(tb testing.TB) {
	for i := range 2 {
		p.done = 0
		if err := p.d.Submit(&p.rx[i]); err != nil {
			tb.Fatal(err)
		}
		if err := p.d.Submit(&p.tx[i]); err != nil {
			tb.Fatal(err)
		}
		for p.done < 2 {
			if _, err := p.d.Wait(time.Second); err != nil {
				tb.Fatal(err)
			}
		}
		if p.failed {
			tb.Fatal("ping-pong op failed")
		}
	}
}

// BenchmarkSocketCall measures what a raw system call saves on the readiness core's
// socket calls (sys_unix.go): recvfrom on an empty non-blocking socket (EAGAIN, so
// the kernel's share is as small as it gets), made through the scheduler (flags 0)
// and raw (MSG_DONTWAIT). On the development machine (Linux 6.18, 2 vCPUs, shared;
// six runs pinned with taskset -c 1 and -cpu=1): scheduled 0.47–0.62 µs, median 0.56;
// raw 0.39–0.50 µs, median 0.43: about 0.12 µs per call, a loop makes one or two
// per message.
func BenchmarkSocketCall(b *testing.B) {
	for _, m := range []struct {
		name  string
		flags int
	}{{"scheduled", 0}, {"raw", unix.MSG_DONTWAIT}} {
		b.Run(m.name, func(b *testing.B) {
			fd, _ := socketpair(b)
			if err := unix.SetNonblock(fd, true); err != nil {
				b.Fatal(err)
			}
			var p [64]byte
			b.ReportAllocs()
			for range b.N {
				if _, errno := ioRecv(fd, p[:], m.flags); errno != unix.EAGAIN {
					b.Fatal(errno)
				}
			}
		})
	}
}

package faultdriver_test

import (
	"errors"
	"fmt"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/zokio/zokio/internal/faultdriver"
	"github.com/zokio/zokio/internal/testkit"
	"github.com/zokio/zokio/poller"
)

// retryable are the errors the oracle's caller meets under every fault kind and
// answers by trying again: the contract lets a caller see them, and none of them
// means bytes moved.
func retryable(err error) bool {
	return errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EINTR) ||
		errors.Is(err, syscall.ECANCELED) || errors.Is(err, syscall.ENOBUFS) ||
		errors.Is(err, syscall.ENOMEM) || errors.Is(err, syscall.EBUSY)
}

// ledger checks exactly-once delivery: every accepted submission ends with exactly
// one final completion, and nothing completes that is not in flight.
type ledger struct {
	t        *testing.T
	inFlight map[*poller.Op]bool
	accepted int
	finals   int
}

func (l *ledger) submit(d poller.Driver, op *poller.Op) error {
	if l.inFlight[op] {
		l.t.Fatalf("%v submitted while in flight", op.Code)
	}
	err := d.Submit(op)
	if err == nil {
		l.inFlight[op] = true
		l.accepted++
	}
	return err
}

func (l *ledger) completed(op *poller.Op) {
	if !l.inFlight[op] {
		l.t.Errorf("%v completed while not in flight (res %d): a duplicate", op.Code, op.Res)
	}
	if !op.More() {
		l.inFlight[op] = false
		l.finals++
		if op.InFlight() {
			l.t.Errorf("%v still in flight after its final completion", op.Code)
		}
	}
}

// stream is one oracle stream: a writer on one descriptor, a reader on another.
type stream struct {
	id          int
	wfd, rfd    int
	sock        bool
	multishot   bool
	total       int64
	src         *testkit.Stream
	chk         *testkit.Checker
	sent        int64
	pend        []byte // produced, not yet accepted by the kernel
	wop, rop    poller.Op
	cop         [2]poller.Op // closes of wfd and rfd
	wantW       bool         // wop should be (re)submitted
	wantR       bool
	wantClose   [2]bool
	closes      int // successful closes: the stream is done at 2
	eof, closed bool
	wClosing    bool
	rClosing    bool
	buf         []byte
	g           poller.BufferGroup
}

// TestOracleUnderFaults streams seeded, checksummed frames through socket pairs and
// pipes over the wrapper with every fault kind on, the caller retrying what the
// contract lets it see (EAGAIN, EINTR, ECANCELED, ENOBUFS, a refused Submit). Every
// byte must arrive once, in order, and every accepted op must complete exactly once.
func TestOracleUnderFaults(t *testing.T) {
	for _, in := range inner {
		for seed := uint64(1); seed <= 3; seed++ {
			t.Run(fmt.Sprintf("%s/seed%d", in.name, seed), func(t *testing.T) {
				fds := testkit.FDCount(t)
				d := faultdriver.New(in.open(t), faultdriver.Config{Seed: seed, Rate: 0.2, Kinds: faultdriver.All, MaxDelay: 4})
				runOracle(t, d, seed)
				if c := d.Injected(); c.Short == 0 || c.Delayed == 0 || c.Cancelled == 0 || c.Errno == 0 || c.SubmitErr == 0 {
					t.Errorf("some kinds were never injected: %+v", c)
				} else {
					t.Logf("faults: %+v", c)
				}
				if err := d.Close(); err != nil {
					t.Fatal(err)
				}
				if after := testkit.FDCount(t); after != fds {
					t.Fatalf("descriptors: %d before, %d after", fds, after)
				}
			})
		}
	}
}

func runOracle(t *testing.T, d poller.Driver, seed uint64) {
	l := &ledger{t: t, inFlight: map[*poller.Op]bool{}}
	var ss []*stream
	for i := 0; i < 6; i++ {
		s := &stream{id: i, total: 192<<10 + int64(i)*777, src: testkit.NewStream(seed*100+uint64(i), 700),
			chk: testkit.NewChecker(seed*100 + uint64(i)), wantW: true, wantR: true}
		var p [2]int
		if i%2 == 0 {
			sp, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
			if err != nil {
				t.Fatal(err)
			}
			p = sp
			s.wfd, s.rfd, s.sock = p[0], p[1], true
			s.multishot = i%4 == 0
		} else {
			if err := unix.Pipe2(p[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
				t.Fatal(err)
			}
			s.rfd, s.wfd = p[0], p[1]
		}
		if s.multishot {
			g, err := d.NewBufferGroup(8, 4096)
			if err != nil {
				t.Fatal(err)
			}
			s.g = g
		} else {
			s.buf = make([]byte, 5000)
		}
		s.setup(t, l)
		ss = append(ss, s)
	}
	end := time.Now().Add(60 * time.Second)
	for {
		done := true
		for _, s := range ss {
			s.kick(t, l, d)
			done = done && s.closed
		}
		if done || t.Failed() {
			break
		}
		if time.Now().After(end) {
			for _, s := range ss {
				t.Logf("stream %d: sent %d of %d, verified %d, eof %v, closed %v", s.id, s.sent, s.total, s.chk.Verified(), s.eof, s.closed)
			}
			var b stringsBuilder
			poller.DumpInFlight(&b, d)
			t.Fatalf("oracle streams stuck\n%s", b)
		}
		if _, err := d.Wait(50 * time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range ss {
		if err := s.chk.Done(s.total); err != nil {
			t.Errorf("stream %d: %v", s.id, err)
		}
	}
	if l.accepted != l.finals {
		t.Errorf("%d ops accepted, %d final completions", l.accepted, l.finals)
	}
}

type stringsBuilder struct{ b []byte }

func (s *stringsBuilder) Write(p []byte) (int, error) { s.b = append(s.b, p...); return len(p), nil }
func (s *stringsBuilder) String() string              { return string(s.b) }

func (s *stream) setup(t *testing.T, l *ledger) {
	s.wop = poller.Op{Fd: s.wfd, Offset: -1, Code: poller.OpWrite}
	s.rop = poller.Op{Fd: s.rfd, Offset: -1, Code: poller.OpRead, Buf: s.buf}
	if s.sock {
		s.wop.Code = poller.OpSend
		s.rop.Code = poller.OpRecv
	}
	if s.multishot {
		s.rop.Buf = nil
		s.rop.Flags = poller.FlagMultishot | poller.FlagBufferSelect
		s.rop.Group = s.g.ID()
	}
	s.wop.Done = func(op *poller.Op) { l.completed(op); s.written(t, op) }
	s.rop.Done = func(op *poller.Op) { l.completed(op); s.read(t, op) }
	for i, fd := range []int{s.wfd, s.rfd} {
		s.cop[i] = poller.Op{Code: poller.OpClose, Fd: fd, Done: func(op *poller.Op) {
			l.completed(op)
			switch {
			case op.Res >= 0:
				s.closes++
				s.closed = s.closes == 2
			case retryable(op.Err()):
				s.wantClose[i] = true
			default:
				t.Errorf("stream %d: close: %v", s.id, op.Err())
			}
		}}
	}
}

// kick submits what the stream wants submitted; a refused Submit is retried on the
// next turn.
func (s *stream) kick(t *testing.T, l *ledger, d poller.Driver) {
	try := func(want *bool, op *poller.Op) {
		if !*want {
			return
		}
		switch err := l.submit(d, op); {
		case err == nil:
			*want = false
		case !retryable(err):
			t.Fatalf("stream %d: Submit(%v): %v", s.id, op.Code, err)
		}
	}
	if s.wantW && s.sent < s.total {
		if len(s.pend) == 0 {
			n := min(int64(3000+s.id*500), s.total-s.sent)
			s.pend = make([]byte, n)
			s.src.Read(s.pend)
		}
		s.wop.Buf = s.pend
		try(&s.wantW, &s.wop)
	}
	if s.wantW && s.sent == s.total && !s.wClosing {
		// The writer is done: close its end, so the reader sees end of file.
		s.wantW, s.wClosing = false, true
		s.wantClose[0] = true
	}
	try(&s.wantClose[0], &s.cop[0])
	try(&s.wantR, &s.rop)
	if s.eof && !s.rClosing {
		s.rClosing = true
		s.wantClose[1] = true
	}
	try(&s.wantClose[1], &s.cop[1])
}

func (s *stream) written(t *testing.T, op *poller.Op) {
	switch {
	case op.Res > 0:
		s.sent += int64(op.Res)
		s.pend = s.pend[op.Res:]
	case op.Res == 0 || !retryable(op.Err()):
		t.Errorf("stream %d: write: res %d", s.id, op.Res)
		return
	}
	s.wantW = true
}

func (s *stream) read(t *testing.T, op *poller.Op) {
	switch {
	case op.Res > 0:
		var p []byte
		if s.multishot {
			p = op.Received(s.g)
		} else {
			p = s.buf[:op.Res]
		}
		if _, err := s.chk.Write(p); err != nil {
			t.Errorf("stream %d: %v", s.id, err)
		}
		if s.multishot {
			s.g.Release(op.BufID)
		}
	case op.Res == 0:
		if !op.More() {
			s.eof = true
		}
		return
	case !retryable(op.Err()):
		t.Errorf("stream %d: read: %v", s.id, op.Err())
		return
	}
	if !op.More() {
		s.wantR = true
	}
}

package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"runtime"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// loop drives its share of the connections from one OS thread. It is used only
// by the goroutine that runs it; the main goroutine reads its counters after
// run has returned.
type loop struct {
	g      *gen
	epfd   int
	conns  []*lconn
	events []unix.EpollEvent
	rbuf   []byte // one read's worth, shared by the loop's connections
	wbuf   []byte // the requests one write sends

	rate   float64 // requests per second from this loop; 0: closed loop
	start  int64   // when run began, on the gen clock
	sent   uint64  // requests sent by the schedule
	rr     int     // the next connection the schedule tries
	behind uint64  // most requests the schedule was behind during the window

	hist     hist      // latencies of the replies completed in the window
	msgs     [2]uint64 // replies completed, per phase (warm-up, window)
	errors   uint64
	firstErr string
}

// lconn is one connection's state.
type lconn struct {
	fd      int
	id      uint32
	sendSeq uint32  // sequence number of the next request
	recvSeq uint32  // sequence number of the next reply expected
	sentAt  []int64 // send times of the outstanding requests, indexed by seq & (len-1)
	carry   []byte  // the first bytes of a reply that a read cut short
	wpend   []byte  // request bytes the socket did not take yet (EPOLLOUT is armed)

	windowMsgs uint64
	dead       bool
}

func newLoop(g *gen) (*loop, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	o := g.o
	return &loop{
		g:      g,
		epfd:   epfd,
		events: make([]unix.EpollEvent, 1024),
		rbuf:   make([]byte, max(64<<10, 2*o.pipeline*o.size)),
		wbuf:   make([]byte, 0, o.pipeline*o.size),
		rate:   o.rate / float64(o.threads),
	}, nil
}

// add registers a connected socket, level-triggered for input: one read per
// readiness report, and no read that only says EAGAIN.
func (l *loop) add(fd int, id uint32) {
	ring := 1
	for ring < l.g.o.pipeline {
		ring <<= 1
	}
	c := &lconn{fd: fd, id: id, sentAt: make([]int64, ring), carry: make([]byte, 0, l.g.o.size)}
	l.conns = append(l.conns, c)
	l.ctl(unix.EPOLL_CTL_ADD, c, len(l.conns)-1, unix.EPOLLIN)
}

// ctl registers or changes c; the event's Fd field carries c's index in conns.
func (l *loop) ctl(op int, c *lconn, idx int, events uint32) {
	ev := unix.EpollEvent{Events: events, Fd: int32(idx)}
	if err := unix.EpollCtl(l.epfd, op, c.fd, &ev); err != nil {
		l.fail(c, fmt.Sprintf("epoll_ctl: %v", err))
	}
}

func (l *loop) index(c *lconn) int {
	for i, x := range l.conns {
		if x == c {
			return i
		}
	}
	return -1
}

// run drives the connections until the phase is done. Closed loop (no -rate):
// every connection's first -pipeline requests go out at once, then each reply
// is answered with a new request. Fixed rate: requests go out on a schedule,
// round robin over the connections with fewer than -pipeline outstanding.
func (l *loop) run() error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	now := l.g.now()
	l.start = now
	timeout := 100 // ms: only to notice the end of the run when nothing happens
	if l.rate > 0 {
		timeout = 1 // the schedule's granularity
	} else {
		for _, c := range l.conns {
			l.send(c, l.g.o.pipeline, now)
		}
	}
	for {
		n, err := unix.EpollWait(l.epfd, l.events, timeout)
		if err != nil && err != unix.EINTR {
			return os.NewSyscallError("epoll_wait", err)
		}
		phase := l.g.phase.Load()
		if phase == phaseDone {
			return nil
		}
		for i := range max(n, 0) {
			ev := &l.events[i]
			c := l.conns[ev.Fd]
			if c.dead {
				continue
			}
			if ev.Events&unix.EPOLLOUT != 0 {
				l.flush(c, int(ev.Fd))
			}
			if ev.Events&(unix.EPOLLIN|unix.EPOLLERR|unix.EPOLLHUP) != 0 && !c.dead {
				l.read(c, phase)
			}
		}
		if l.rate > 0 {
			l.paced(phase)
		}
	}
}

// paced sends the requests the schedule says are due by now, one each to the
// next connections in turn that have room in their pipeline. Requests that
// find no room wait for the next round (the schedule does not skip them), and
// the shortfall is recorded.
func (l *loop) paced(phase int32) {
	now := l.g.now()
	due := uint64(float64(now-l.start) * l.rate / 1e9)
	for scanned := 0; l.sent < due && scanned < len(l.conns); {
		c := l.conns[l.rr]
		l.rr = (l.rr + 1) % len(l.conns)
		if c.dead || int(c.sendSeq-c.recvSeq) >= l.g.o.pipeline {
			scanned++
			continue
		}
		scanned = 0
		l.send(c, 1, now)
		l.sent++
	}
	if phase == phaseWindow {
		l.behind = max(l.behind, due-min(due, l.sent))
	}
}

// read takes what the socket holds, checks every whole reply, and sends as many
// new requests as replies came back.
func (l *loop) read(c *lconn, phase int32) {
	k := copy(l.rbuf, c.carry)
	n, errno := rawIO(unix.SYS_READ, c.fd, l.rbuf[k:])
	switch {
	case errno == unix.EAGAIN || errno == unix.EINTR:
		return
	case errno != 0:
		l.fail(c, fmt.Sprintf("conn %d: read: %v", c.id, errno))
		return
	case n == 0:
		l.fail(c, fmt.Sprintf("conn %d: EOF from the server", c.id))
		return
	}
	now := l.g.now()
	data := l.rbuf[:k+n]
	size := l.g.o.size
	mask := uint32(len(c.sentAt) - 1)
	replies := 0
	for ; len(data) >= size; data = data[size:] {
		if !l.check(c, data[:size]) {
			return
		}
		if phase == phaseWindow {
			l.hist.record(uint64(now - c.sentAt[c.recvSeq&mask]))
			c.windowMsgs++
		}
		l.msgs[phase]++
		c.recvSeq++
		replies++
	}
	c.carry = append(c.carry[:0], data...)
	if replies > 0 && l.rate == 0 {
		l.send(c, replies, now)
	}
}

// check verifies one reply: it must be the next one outstanding on c, with the
// header and payload that were sent.
func (l *loop) check(c *lconn, msg []byte) bool {
	id := binary.LittleEndian.Uint32(msg[0:])
	seq := binary.LittleEndian.Uint32(msg[4:])
	ts := int64(binary.LittleEndian.Uint64(msg[8:]))
	off := patOffset(c.id, c.recvSeq)
	switch {
	case c.recvSeq == c.sendSeq:
		l.fail(c, fmt.Sprintf("conn %d: a reply with nothing outstanding", c.id))
	case id != c.id || seq != c.recvSeq || ts != c.sentAt[seq&uint32(len(c.sentAt)-1)]:
		l.fail(c, fmt.Sprintf("conn %d: reply header conn %d seq %d time %d, want conn %d seq %d", c.id, id, seq, ts, c.id, c.recvSeq))
	case !bytes.Equal(msg[headerLen:], l.g.pat[off:off+len(msg)-headerLen]):
		l.fail(c, fmt.Sprintf("conn %d: reply %d payload differs from what was sent", c.id, seq))
	default:
		return true
	}
	return false
}

// send writes count new requests in one system call; what the socket does not
// take waits in wpend for EPOLLOUT.
func (l *loop) send(c *lconn, count int, now int64) {
	w := l.wbuf[:0]
	mask := uint32(len(c.sentAt) - 1)
	for range count {
		seq := c.sendSeq
		c.sentAt[seq&mask] = now
		w = binary.LittleEndian.AppendUint32(w, c.id)
		w = binary.LittleEndian.AppendUint32(w, seq)
		w = binary.LittleEndian.AppendUint64(w, uint64(now))
		off := patOffset(c.id, seq)
		w = append(w, l.g.pat[off:off+l.g.o.size-headerLen]...)
		c.sendSeq++
	}
	l.wbuf = w
	if len(c.wpend) > 0 {
		c.wpend = append(c.wpend, w...)
		return
	}
	n, errno := rawIO(unix.SYS_WRITE, c.fd, w)
	switch {
	case errno == unix.EAGAIN || errno == unix.EINTR:
		n = 0
	case errno != 0:
		l.fail(c, fmt.Sprintf("conn %d: write: %v", c.id, errno))
		return
	}
	if n < len(w) {
		c.wpend = append(c.wpend[:0], w[n:]...)
		l.ctl(unix.EPOLL_CTL_MOD, c, l.index(c), unix.EPOLLIN|unix.EPOLLOUT)
	}
}

// flush writes what waits in wpend, and disarms EPOLLOUT once it is all gone.
func (l *loop) flush(c *lconn, idx int) {
	if len(c.wpend) == 0 {
		return
	}
	n, errno := rawIO(unix.SYS_WRITE, c.fd, c.wpend)
	switch {
	case errno == unix.EAGAIN || errno == unix.EINTR:
		return
	case errno != 0:
		l.fail(c, fmt.Sprintf("conn %d: write: %v", c.id, errno))
		return
	}
	c.wpend = c.wpend[:copy(c.wpend, c.wpend[n:])]
	if len(c.wpend) == 0 {
		l.ctl(unix.EPOLL_CTL_MOD, c, idx, unix.EPOLLIN)
	}
}

// fail records an error and takes c out of the run.
func (l *loop) fail(c *lconn, msg string) {
	if c.dead {
		return
	}
	c.dead = true
	l.errors++
	if l.firstErr == "" {
		l.firstErr = msg
	}
	_ = unix.EpollCtl(l.epfd, unix.EPOLL_CTL_DEL, c.fd, nil)
}

// close closes every socket (with a reset, see dial) and the epoll instance.
func (l *loop) close() {
	for _, c := range l.conns {
		unix.Close(c.fd)
	}
	unix.Close(l.epfd)
}

// rawIO is read(2) or write(2) without the Go scheduler's system call
// bookkeeping: the sockets are non-blocking, so the call cannot block the thread.
func rawIO(trap uintptr, fd int, b []byte) (int, syscall.Errno) {
	if len(b) == 0 {
		return 0, 0
	}
	// SAFETY: b is live for the call and the kernel touches it only during it.
	n, _, errno := unix.RawSyscall(trap, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)))
	return int(n), errno
}

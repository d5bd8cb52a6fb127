package znet

import (
	"net"
	"os"
	"syscall"

	"github.com/zokio/zokio/poller"
	"github.com/zokio/zokio/runtime"
)

// rawConn is the syscall.RawConn of an adapter (NetConn, Listener, PacketConn), as
// SyscallConn returns it: Control runs f on the descriptor, holding a reference so
// that Close cannot release the number meanwhile; Read and Write run f, and while f
// reports "not done" they wait for the descriptor to become readable or writable
// through the loop's driver (an OpPoll), within the adapter's read or write deadline.
// Nothing polls in a loop: each retry follows a readiness completion.
//
// A rawConn is safe for concurrent use by multiple goroutines, as the adapter is.
type rawConn struct {
	l       *runtime.Loop
	fd      int
	acquire func() bool // the adapter's incref
	release func()      // the adapter's release: the last one after Close closes
	rd, wd  *deadline
	opErr   func(op string, err error) error
	// before, if set, runs once before Read's first f: a NetConn hands its socket's
	// receiving over from its multishot receive, so that f reads what arrives next.
	before func()
}

var _ syscall.RawConn = (*rawConn)(nil)

// Control runs f with the descriptor.
func (rc *rawConn) Control(f func(fd uintptr)) error {
	if !rc.acquire() {
		return rc.opErr("raw-control", net.ErrClosed)
	}
	defer rc.release()
	f(uintptr(rc.fd))
	return nil
}

// Read runs f until it returns true, waiting for readability between tries.
func (rc *rawConn) Read(f func(fd uintptr) (done bool)) error {
	if rc.before != nil {
		rc.before()
	}
	return rc.wait("raw-read", rc.rd, poller.PollIn, f)
}

// Write runs f until it returns true, waiting for writability between tries.
func (rc *rawConn) Write(f func(fd uintptr) (done bool)) error {
	return rc.wait("raw-write", rc.wd, poller.PollOut, f)
}

func (rc *rawConn) wait(name string, d *deadline, events uint32, f func(fd uintptr) bool) error {
	if !rc.acquire() {
		return rc.opErr(name, net.ErrClosed)
	}
	defer rc.release()
	for {
		if err := checkDeadline(d); err != nil {
			return rc.opErr(name, err)
		}
		if f(uintptr(rc.fd)) {
			return nil
		}
		// A fresh op per wait: a cancelled one may still be read by a late cancel
		// task (see opSlot), and raw calls are not on a hot path.
		op := poller.Op{Code: poller.OpPoll, Fd: rc.fd, Arg: events}
		if _, err := rc.l.Do(d, &op); err != nil {
			return rc.opErr(name, mapErr(d, "poll", err))
		}
	}
}

// SyscallConn returns a raw view of the socket (syscall.Conn), as
// net.TCPConn.SyscallConn does: Control runs a function on the descriptor (to get or
// set an option the package lacks), and Read and Write run one until it says it is
// done, waiting for readiness through the driver between tries, within the read or
// write deadline. A raw Read sees what the kernel holds: once it has run, the
// connection's Read serves what it had read ahead first and then receives with
// single ops, so no byte is read twice or skipped.
func (c *NetConn) SyscallConn() (syscall.RawConn, error) {
	if c.ref.v.Load()&refClosed != 0 {
		return nil, c.opErr("raw", net.ErrClosed)
	}
	return &rawConn{l: c.l, fd: c.fd, acquire: c.ref.incref, release: c.release, rd: &c.rd, wd: &c.wd,
		opErr: c.opErr, before: c.rr.handoff}, nil
}

// SyscallConn returns a raw view of the listening socket, as
// net.TCPListener.SyscallConn does; Read and Write wait on the accept deadline.
func (ln *Listener) SyscallConn() (syscall.RawConn, error) {
	if ln.ref.v.Load()&refClosed != 0 {
		return nil, ln.opErr(net.ErrClosed)
	}
	opErr := func(op string, err error) error { return opError(op, ln.kind.name, nil, ln.addr, err) }
	return &rawConn{l: ln.l, fd: ln.fd, acquire: ln.ref.incref, release: ln.release, rd: &ln.dl, wd: &ln.dl,
		opErr: opErr}, nil
}

// File returns a duplicate of the listening socket's descriptor as an *os.File, as
// net.TCPListener.File does (to hand it to a child process, for instance): closing
// one leaves the other open. Windows has none, as in Go's net.
func (ln *Listener) File() (*os.File, error) {
	if !ln.ref.incref() {
		return nil, opError("file", ln.kind.name, nil, ln.addr, net.ErrClosed)
	}
	defer ln.release()
	f, err := dupFile(ln.fd, "znet "+ln.kind.name+" listener "+addrString(ln.addr))
	if err != nil {
		return nil, opError("file", ln.kind.name, nil, ln.addr, err)
	}
	return f, nil
}

// SyscallConn returns a raw view of the UDP socket, as net.UDPConn.SyscallConn does.
func (c *PacketConn) SyscallConn() (syscall.RawConn, error) {
	if c.ref.v.Load()&refClosed != 0 {
		return nil, c.opErr("raw", nil, net.ErrClosed)
	}
	opErr := func(op string, err error) error { return c.opErr(op, nil, err) }
	return &rawConn{l: c.l, fd: c.fd, acquire: c.ref.incref, release: c.release, rd: &c.rd, wd: &c.wd,
		opErr: opErr}, nil
}

package poller

import (
	"errors"
	"fmt"
	"math"
	"os"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Epoll is the Driver for Linux systems where io_uring is missing or forbidden. It
// emulates completions on top of epoll readiness: socket and pipe ops are tried at
// once on non-blocking descriptors and retried when epoll reports them ready; file and
// path ops run on a small bounded pool of worker goroutines. See the package
// documentation for the contract it keeps.
//
// Registration is edge-triggered, once per descriptor (EPOLLIN|EPOLLOUT|EPOLLRDHUP|
// EPOLLPRI|EPOLLET, as Go's netpoll does), chosen by measurement over EPOLLONESHOT
// re-arming and over re-adding on every wait: a socketpair ping-pong needs no
// epoll_ctl at all in steady state, against one per waiting op for the others, and
// runs about 10% faster (BenchmarkEpollArm; numbers in epoll_bench_test.go).
//
// Descriptors that ops name are put in non-blocking mode, and the driver caches what
// it learned about each (kind, registration) until an OpClose through the driver, or
// until accept or openat through the driver returns that number again. A descriptor
// closed other than through OpClose must not be used with the driver again before
// one of those happens: its number may come back as a different file.
//
// An Epoll is used only by the goroutine that created it, except Wake, which is safe
// for concurrent use by multiple goroutines. It must be created by NewEpoll (a zero
// Epoll acts as a closed one) and must not be copied after first use.
type Epoll struct {
	_ noCopy
	emul

	epfd     int
	wakefd   int // guarded by wakeMu for Wake; the loop's own reads need no lock
	mode     armMode
	events   []unix.EpollEvent
	ev       unix.EpollEvent // epoll_ctl argument, kept here so arming allocates nothing
	ts       kernelTimespec  // epoll_pwait2 timeout, likewise
	wakeBuf  [8]byte
	noPwait2 bool   // epoll_pwait2 returned ENOSYS: use epoll_wait (milliseconds)
	ctlCalls uint64 // epoll_ctl calls so far, for the arming benchmark

	wakeup Wakeup // the wake protocol, shared with the kqueue driver
}

var (
	_ Driver        = (*Epoll)(nil)
	_ StatsReporter = (*Epoll)(nil)
)

// EpollConfig configures NewEpoll. The zero value gives the defaults.
type EpollConfig struct {
	// Workers is the number of goroutines that run file and path ops (read and write
	// on regular files, fsync, openat, statx, ...). They start with the first such op
	// and exit in Close. 0 means 4.
	Workers int
	// MaxQueuedFileOps bounds the file ops handed to the workers and not yet
	// completed; more wait inside the driver, in submission order, and never block
	// Submit or Wait. 0 means 64.
	MaxQueuedFileOps int
	// MaxEvents is the number of events one epoll_wait can return. 0 means 256.
	MaxEvents int
	// MaxCompletionsPerWait bounds the completions one Wait delivers. 0 means 256.
	MaxCompletionsPerWait int
	// MaxAttemptsPerFd bounds the syscalls one Wait makes for one descriptor in one
	// direction (each multishot accept or recv syscall counts; a multishot recv on a
	// byte stream fills up to four buffers of its group per syscall, one result each);
	// the rest wait for the next Wait, so one busy connection cannot starve the others.
	// 0 means 16.
	MaxAttemptsPerFd int

	mode armMode // registration strategy; tests and benchmarks change it
}

// armMode is how descriptors are registered with epoll.
type armMode uint8

const (
	armEdge        armMode = iota // EPOLLET, added once per descriptor (the default)
	armEdgeChecked                // EPOLLET, EPOLL_CTL_ADD on every wait (EEXIST is fine)
	armOneshot                    // EPOLLONESHOT, re-armed with EPOLL_CTL_MOD on every wait
)

const (
	edgeEvents    = unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLRDHUP | unix.EPOLLPRI | unix.EPOLLET
	oneshotEvents = unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLRDHUP | unix.EPOLLPRI | unix.EPOLLONESHOT
	// reportedEvents are the epoll bits passed on as poll(2) revents (equal on Linux).
	reportedEvents = unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLRDHUP | unix.EPOLLPRI |
		unix.EPOLLERR | unix.EPOLLHUP
)

func (cfg EpollConfig) core() (emulConfig, error) {
	c, err := CoreConfig{Workers: cfg.Workers, MaxQueuedFileOps: cfg.MaxQueuedFileOps,
		MaxAttemptsPerFd: cfg.MaxAttemptsPerFd, MaxCompletionsPerWait: cfg.MaxCompletionsPerWait}.core()
	if err == nil && (cfg.MaxEvents < 0 || cfg.MaxEvents > math.MaxInt32) {
		err = fmt.Errorf("poller: negative or too large EpollConfig field: %w", syscall.EINVAL)
	}
	return c, err
}

// NewEpoll creates an epoll driver: an epoll instance and an eventfd for Wake. It
// starts no goroutine. On failure it releases what it created and returns the error.
func NewEpoll(cfg EpollConfig) (*Epoll, error) {
	core, err := cfg.core()
	if err != nil {
		return nil, err
	}
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	wakefd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(epfd)
		return nil, os.NewSyscallError("eventfd", err)
	}
	// Level-triggered: the eventfd is reported until the loop reads it empty.
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(wakefd)}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wakefd, &ev); err != nil {
		unix.Close(wakefd)
		unix.Close(epfd)
		return nil, os.NewSyscallError("epoll_ctl", err)
	}
	n := cfg.MaxEvents
	if n == 0 {
		n = 256
	}
	d := &Epoll{epfd: epfd, wakefd: wakefd, mode: cfg.mode, events: make([]unix.EpollEvent, n)}
	d.wakeup.Init(d.postWake)
	d.emul.init((*epollBackend)(d), "epoll", core)
	d.emul.splice = true
	return d, nil
}

// Submit implements Driver.Submit.
func (d *Epoll) Submit(op *Op) error {
	if d.k == nil {
		return ErrClosed
	}
	return d.emul.submit(op)
}

// Cancel implements Driver.Cancel.
func (d *Epoll) Cancel(op *Op) error {
	if d.k == nil {
		return ErrNotInFlight
	}
	return d.emul.cancel(op)
}

// Wait implements Driver.Wait.
func (d *Epoll) Wait(timeout time.Duration) (int, error) {
	if d.k == nil {
		return 0, ErrClosed
	}
	return d.emul.wait(timeout)
}

// NewBufferGroup implements Driver.NewBufferGroup. The buffers are one anonymous
// mapping, unmapped by Close.
func (d *Epoll) NewBufferGroup(count, size int) (BufferGroup, error) {
	if d.k == nil {
		return nil, ErrClosed
	}
	return d.emul.newBufferGroup(count, size)
}

// Info reports the name "epoll" and one optional feature, FeatSplice (splice on
// readiness): completions are emulated, file I/O occupies a worker thread per running
// op, and there are no fixed files, fixed buffers, zero-copy sends, buffer rings, SQ
// polling or MSG_RING.
func (d *Epoll) Info() Info { return Info{Name: "epoll", Features: FeatSplice} }

// Stats implements StatsReporter: ops submitted, completions delivered, epoll waits
// (Enters) and Wake signals consumed. Overflows, Rearms and Stale stay zero: nothing
// overflows or ends a multishot op behind the driver's back, and no completion can
// outlive its op.
func (d *Epoll) Stats() Stats { return d.stats }

// Close implements Driver.Close: it completes every op still in flight (Done runs
// inside Close), stops the workers, unmaps the buffer groups and closes the epoll
// instance and the eventfd. Later calls return ErrClosed.
//
// Ops complete with ECANCELED, except file ops a worker is already running and OpClose
// ops under way, which report their real result (an opened descriptor is delivered,
// not leaked); Close waits for those, so a file op that blocks forever (opening a FIFO
// that no one else opens) blocks Close too.
func (d *Epoll) Close() error {
	if d.k == nil || d.emul.closed {
		return ErrClosed
	}
	d.wakeup.Closing()
	d.emul.shutdown()
	err1 := d.wakeup.Close(func() error {
		err := unix.Close(d.wakefd)
		d.wakefd = -1
		return err
	})
	err2 := unix.Close(d.epfd)
	d.epfd = -1
	if err := errors.Join(err1, err2); err != nil {
		return os.NewSyscallError("close", err)
	}
	return nil
}

// epollBackend is Epoll's side of the readiness core (Backend), a distinct type so
// that Epoll's own method set stays the Driver's.
type epollBackend Epoll

// Owns implements Backend.Owns.
func (d *epollBackend) Owns(fd int) bool { return fd == d.epfd || fd == d.wakefd }

// Signal implements Backend.Signal.
func (d *epollBackend) Signal() error { return d.wakeup.Signal() }

// Arm implements Backend.Arm; see armMode.
func (d *epollBackend) Arm(fd int, r *Registration) syscall.Errno {
	var errno syscall.Errno
	switch d.mode {
	case armEdge:
		if r.Armed {
			return 0
		}
		errno = d.ctl(unix.EPOLL_CTL_ADD, fd, edgeEvents)
	case armEdgeChecked:
		errno = d.ctl(unix.EPOLL_CTL_ADD, fd, edgeEvents)
	case armOneshot:
		if r.Armed {
			return 0
		}
		errno = d.ctl(unix.EPOLL_CTL_MOD, fd, oneshotEvents)
		if errno == unix.ENOENT {
			errno = d.ctl(unix.EPOLL_CTL_ADD, fd, oneshotEvents)
		}
	}
	if errno == unix.EEXIST { // registered already: the same open file at this number
		errno = 0
	}
	r.Armed = errno == 0
	r.Added = r.Added || r.Armed
	return errno
}

// Disarm implements Backend.Disarm: EPOLL_CTL_DEL while the descriptor is still open,
// since epoll tracks open file descriptions, not numbers (docs/RELIABILITY.md trap 15).
func (d *epollBackend) Disarm(fd int, r *Registration) {
	if r.Added {
		_ = d.ctl(unix.EPOLL_CTL_DEL, fd, 0)
	}
	*r = Registration{}
}

func (d *epollBackend) ctl(op, fd int, events uint32) syscall.Errno {
	d.ctlCalls++
	d.ev = unix.EpollEvent{Events: events, Fd: int32(fd)}
	// SAFETY: d.ev lives as long as the driver; epoll_ctl copies it.
	_, _, errno := unix.RawSyscall6(unix.SYS_EPOLL_CTL, uintptr(d.epfd), uintptr(op), uintptr(fd),
		uintptr(unsafe.Pointer(&d.ev)), 0, 0)
	return errno
}

// Poll implements Backend.Poll.
func (d *epollBackend) Poll(timeout int64) (bool, error) {
	d.stats.Enters++
	n, errno := d.epollWait(timeout)
	switch errno {
	case 0:
	case unix.EINTR:
		return false, nil
	default:
		return false, os.NewSyscallError("epoll_wait", errno)
	}
	woken := false
	for i := range n {
		ev := &d.events[i]
		fd := int(ev.Fd)
		if fd == d.wakefd {
			if (*Epoll)(d).drainWake() {
				d.stats.Wakeups++
				woken = true
			}
			continue
		}
		if d.mode == armOneshot {
			if f := d.fds.peek(fd); f != nil {
				f.reg.Armed = false // the event disarmed it
			}
		}
		d.onReady(fd, ev.Events&reportedEvents)
	}
	return woken, nil
}

// kernelTimespec is struct __kernel_timespec, which epoll_pwait2 takes on every
// architecture: 64-bit seconds even where unix.Timespec's are 32-bit (386, arm).
type kernelTimespec struct {
	Sec  int64
	Nsec int64
}

// epollWait waits with nanosecond precision through epoll_pwait2 (Linux 5.11), or
// with epoll_wait's milliseconds, rounded up so that a timer never fires early, once
// epoll_pwait2 returned ENOSYS.
func (d *epollBackend) epollWait(timeout int64) (int, syscall.Errno) {
	// SAFETY: d.events and d.ts live as long as the driver; the kernel writes the
	// events and reads the timeout during the call only.
	ev := unsafe.Pointer(&d.events[0])
	if timeout != 0 && !d.noPwait2 {
		var ts unsafe.Pointer
		if timeout > 0 {
			d.ts = kernelTimespec{Sec: timeout / 1e9, Nsec: timeout % 1e9}
			ts = unsafe.Pointer(&d.ts)
		}
		n, _, errno := unix.Syscall6(unix.SYS_EPOLL_PWAIT2, uintptr(d.epfd), uintptr(ev),
			uintptr(len(d.events)), uintptr(ts), 0, 0)
		if errno != unix.ENOSYS {
			return int(n), errno
		}
		d.noPwait2 = true
	}
	ms := int64(-1)
	if timeout >= 0 {
		ms = min((timeout+999_999)/1_000_000, math.MaxInt32)
	}
	n, err := unix.EpollWait(d.epfd, d.events, int(ms))
	if err != nil {
		return 0, toErrno(err)
	}
	return n, 0
}

var _ InFlightReporter = (*Epoll)(nil)

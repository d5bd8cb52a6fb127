package runtime

import (
	"golang.org/x/sys/unix"

	"github.com/zokio/zokio/poller"
	"github.com/zokio/zokio/runtime/driver"
	"github.com/zokio/zokio/sqpoll"
	"github.com/zokio/zokio/uring"
)

func gettid() int { return unix.Gettid() }

// setDriverConfig fills the per-loop driver configuration. A loop is the only thread
// that touches its ring, so rings are SINGLE_ISSUER with DEFER_TASKRUN (completions run
// when the loop enters, batched), unless SQPOLL is on, which excludes it; then the
// ring gets its SQ thread on the CPU the plan chose, or attaches to loop 0's.
func setDriverConfig(c *driver.Config, l *Loop) {
	o := &l.rt.opts
	c.Uring = uring.DriverConfig{Entries: o.RingEntries, Flags: uring.SetupSingleIssuer | uring.SetupDeferTaskrun,
		BatchWait: o.BatchWait}
	if o.UnlockedLoops {
		c.Uring.Flags = 0 // the defaults: COOP_TASKRUN|TASKRUN_FLAG, any thread may enter
	}
	var first *uring.Driver
	if l.id > 0 && l.rt.sq.AttachesToFirst() {
		// Loop 0 finished starting before this loop began when rings share an SQ
		// thread (Runtime.New), which orders this read after its write.
		d0 := l.rt.loops[0].d
		if w, ok := d0.(interface{ Unwrap() poller.Driver }); ok {
			d0 = w.Unwrap() // a test's fault-injecting wrapper (internal/faultdriver)
		}
		first, _ = d0.(*uring.Driver)
	}
	l.rt.sq.Apply(&c.Uring, first, l.place.SQCPU)
}

// openDriver opens the loop's driver. If the ring is refused because of SQPOLL (a
// sandbox that allows io_uring but not its kernel threads), the runtime's decision
// falls back to Off, with the reason, and the ring is made again without it.
func (l *Loop) openDriver() (poller.Driver, driver.Decision, error) {
	var c driver.Config
	setDriverConfig(&c, l)
	d, dec, err := driver.Open(l.rt.opts.Driver, c)
	if err == nil || l.rt.sq.Mode == sqpoll.Off || c.Uring.Flags&uring.SetupSQPoll == 0 {
		return d, dec, err
	}
	l.rt.sqMu.Lock()
	nd, ok := l.rt.sqDec.Fallback(err)
	if ok {
		l.rt.sqDec = nd
	}
	l.rt.sqMu.Unlock()
	if !ok {
		return d, dec, err
	}
	sqpoll.Config{Mode: sqpoll.Off}.Apply(&c.Uring, nil, -1)
	return driver.Open(l.rt.opts.Driver, c)
}

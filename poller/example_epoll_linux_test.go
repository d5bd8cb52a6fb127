package poller_test

import (
	"fmt"
	"time"

	"golang.org/x/sys/unix"

	"github.com/zokio/zokio/poller"
)

// A read from a socket pair through the epoll driver: the recv is submitted before
// any data exists, waits for readiness inside the driver, and completes from Wait.
func ExampleNewEpoll() {
	d, err := poller.NewEpoll(poller.EpollConfig{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer d.Close()

	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer unix.Close(fds[1])

	buf := make([]byte, 32)
	done := false
	recv := &poller.Op{Code: poller.OpRecv, Fd: fds[0], Buf: buf, Done: func(op *poller.Op) {
		if err := op.Err(); err != nil {
			fmt.Println("recv:", err)
		} else {
			fmt.Printf("received %q\n", buf[:op.Res])
		}
		done = true
	}}
	if err := d.Submit(recv); err != nil {
		fmt.Println(err)
		return
	}
	unix.Write(fds[1], []byte("hello, epoll"))
	for !done {
		if _, err := d.Wait(time.Second); err != nil {
			fmt.Println(err)
			return
		}
	}

	// Close the descriptor through the driver, which drains its ops first.
	closed := false
	if err := d.Submit(&poller.Op{Code: poller.OpClose, Fd: fds[0], Done: func(*poller.Op) { closed = true }}); err != nil {
		fmt.Println(err)
		return
	}
	for !closed {
		d.Wait(time.Second)
	}
	// Output: received "hello, epoll"
}

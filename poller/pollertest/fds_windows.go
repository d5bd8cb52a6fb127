package pollertest

import (
	"net"
	"sync"

	"github.com/zokio/zokio/internal/winhandles"
)

// openFDs counts the handles a leak of a driver would leave: sockets, disk files and
// directories, and I/O completion ports, found among the process's own handle values
// (internal/winhandles; not the system handle table, whose query crashes Wine 8's
// server now and then).
//
// The first call makes Go's runtime create its own completion port (its netpoll's,
// made at the first network or timer use, and kept for the process's life) by opening
// and closing a loopback listener: made later, inside a scenario, it would read as a
// leaked port, or take the value of a handle the scenario just closed.
func openFDs() int {
	netpollPort.Do(func() {
		if ln, err := net.Listen("tcp", "127.0.0.1:0"); err == nil {
			ln.Close()
		}
	})
	c := winhandles.Count()
	return c.Sockets + c.Files + c.Ports
}

var netpollPort sync.Once

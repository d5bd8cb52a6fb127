//go:build linux || windows || darwin || dragonfly || freebsd || netbsd || openbsd

package znet

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/zokio/zokio/poller"
)

// TestSocketLayer checks the system layer by itself, without a driver: sockets bind
// and listen, the raw address encoding round-trips through the system's
// getsockname, a Go client reaches the listener, and UDP sockets (whose set-up on
// Windows turns off ICMP resets) bind on IPv4 and IPv6.
func TestSocketLayer(t *testing.T) {
	for _, tc := range []struct {
		sotype int
		addr   string
		family int
	}{
		{sockStream, "127.0.0.1:0", afInet},
		{sockStream, "[::1]:0", afInet6},
		{sockDgram, "127.0.0.1:0", afInet},
		{sockDgram, "[::1]:0", afInet6},
	} {
		var sa poller.Sockaddr
		ap := netip.MustParseAddrPort(tc.addr)
		putInet(&sa, ap, tc.family)
		fd, err := bindSocket(tc.sotype, &sa, listenerOptions{v6only: tc.family == afInet6})
		if tc.family == afInet6 && err != nil {
			t.Logf("%s: no IPv6 here: %v", tc.addr, err)
			continue
		}
		if err != nil {
			t.Fatalf("bind %s: %v", tc.addr, err)
		}
		var got poller.Sockaddr
		if err := sockname(fd, &got); err != nil {
			t.Fatalf("sockname: %v", err)
		}
		bound, ok := inetAddrPort(&got)
		if !ok || bound.Addr() != ap.Addr() || bound.Port() == 0 || int(rawFamily(&got)) != tc.family {
			t.Fatalf("sockname of %s: %v (ok %v, family %d)", tc.addr, bound, ok, rawFamily(&got))
		}
		if err := peername(fd, &got); err == nil {
			t.Errorf("peername of an unconnected socket succeeded")
		}
		if tc.sotype == sockStream {
			c, err := net.DialTimeout("tcp", bound.String(), 30*time.Second)
			if err != nil {
				t.Fatalf("dial %s: %v", bound, err)
			}
			c.Close()
		}
		if err := closeFd(fd); err != nil {
			t.Fatalf("close: %v", err)
		}
	}
}

//go:build unix

package znet

import (
	"errors"
	"net/netip"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/zokio/zokio/poller"
)

// TestBSDSockaddrThroughXSys converts raw BSD addresses into x/sys's form and back,
// as bind and getsockname see them on the BSDs, for each system's family numbers.
func TestBSDSockaddrThroughXSys(t *testing.T) {
	for _, c := range bsdLayouts {
		var want []poller.Sockaddr
		for _, tc := range []struct {
			ap     string
			family uint8
		}{
			{"127.0.0.1:80", c.l.inet},
			{"[::1]:1", c.l.inet6},
			{"[2001:db8::5]:9000", c.l.inet6},
			{"10.1.2.3:7", c.l.inet6},
		} {
			var sa poller.Sockaddr
			c.l.putInet(&sa, netip.MustParseAddrPort(tc.ap), int(tc.family))
			want = append(want, sa)
		}
		var sa poller.Sockaddr
		c.l.putInet6(&sa, netip.MustParseAddr("fe80::2").As16(), 5, 7)
		want = append(want, sa)
		if err := c.l.putUnix(&sa, "/tmp/zokio.sock"); err != nil {
			t.Fatal(err)
		}
		want = append(want, sa)
		for _, sa := range want {
			u, err := c.l.toSockaddr(&sa)
			if err != nil {
				t.Errorf("%s: toSockaddr(% x): %v", c.os, sa.Raw[:sa.Len], err)
				continue
			}
			var back poller.Sockaddr
			if err := c.l.fromSockaddr(&back, u); err != nil || back != sa {
				t.Errorf("%s: % x through x/sys (%#v): % x, %v", c.os, sa.Raw[:sa.Len], u, back.Raw[:back.Len], err)
			}
		}
		// The scope id is x/sys's ZoneId; an IPv4 address on an AF_INET6 socket stays
		// IPv4-mapped, as the kernel needs it there.
		if u, _ := c.l.toSockaddr(&want[4]); u.(*unix.SockaddrInet6).ZoneId != 7 {
			t.Errorf("%s: ZoneId %d, want 7", c.os, u.(*unix.SockaddrInet6).ZoneId)
		}
		if u, _ := c.l.toSockaddr(&want[3]); u.(*unix.SockaddrInet6).Port != 7 {
			t.Errorf("%s: mapped address became %#v", c.os, u)
		}
		// An unnamed Unix socket, as getsockname reports an unbound one.
		if err := c.l.fromSockaddr(&sa, &unix.SockaddrUnix{}); err != nil || sa.Len != bsdUnixHeader ||
			c.l.family(&sa) != uint16(c.l.unix) || c.l.unixPath(&sa) != "" {
			t.Errorf("%s: unnamed Unix socket: % x (len %d), %v", c.os, sa.Raw[:2], sa.Len, err)
		}
		// A family neither side knows.
		sa = poller.Sockaddr{Len: 16}
		sa.Raw[0], sa.Raw[1] = 16, 99
		if _, err := c.l.toSockaddr(&sa); !errors.Is(err, syscall.EAFNOSUPPORT) {
			t.Errorf("%s: toSockaddr of family 99: %v", c.os, err)
		}
		if err := c.l.fromSockaddr(&sa, nil); !errors.Is(err, syscall.EAFNOSUPPORT) {
			t.Errorf("%s: fromSockaddr(nil): %v", c.os, err)
		}
	}
}

package znet

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"strings"
	"syscall"
	"testing"

	"github.com/zokio/zokio/poller"
)

// The BSD sockaddr layout is byte code (sockaddr_bsdlayout.go), so its encoding and
// decoding are checked here on every system, with each BSD's family numbers, against
// the bytes of struct sockaddr_in, sockaddr_in6 and sockaddr_un in their headers.

// bsdLayouts are the family numbers of each system's <sys/socket.h>.
var bsdLayouts = []struct {
	os string
	l  bsdLayout
}{
	{"darwin", bsdLayout{inet: 2, inet6: 30, unix: 1}},
	{"freebsd", bsdLayout{inet: 2, inet6: 28, unix: 1}},
	{"dragonfly", bsdLayout{inet: 2, inet6: 28, unix: 1}},
	{"netbsd", bsdLayout{inet: 2, inet6: 24, unix: 1}},
	{"openbsd", bsdLayout{inet: 2, inet6: 24, unix: 1}},
}

func TestBSDSockaddrInetBytes(t *testing.T) {
	for _, c := range bsdLayouts {
		var sa poller.Sockaddr
		c.l.putInet(&sa, netip.MustParseAddrPort("127.0.0.1:8080"), int(c.l.inet))
		want := []byte{16, 2, 0x1f, 0x90, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0}
		if sa.Len != 16 || !bytes.Equal(sa.Raw[:sa.Len], want) || c.l.family(&sa) != 2 {
			t.Errorf("%s: sockaddr_in = % x (len %d), want % x", c.os, sa.Raw[:16], sa.Len, want)
		}
		c.l.putInet6(&sa, netip.MustParseAddr("fe80::1").As16(), 443, 0x01020304)
		want = append([]byte{28, c.l.inet6, 0x01, 0xbb, 0, 0, 0, 0, 0xfe, 0x80}, make([]byte, 13)...)
		want = append(want, 1)
		want = binary.NativeEndian.AppendUint32(want, 0x01020304) // host byte order, as the kernel keeps it
		if sa.Len != 28 || !bytes.Equal(sa.Raw[:sa.Len], want) || c.l.family(&sa) != uint16(c.l.inet6) {
			t.Errorf("%s: sockaddr_in6 = % x (len %d), want % x", c.os, sa.Raw[:28], sa.Len, want)
		}
	}
}

func TestBSDSockaddrInetRoundTrip(t *testing.T) {
	for _, c := range bsdLayouts {
		for _, tc := range []struct {
			ap     string
			family uint8
			want   string
		}{
			{"127.0.0.1:80", c.l.inet, "127.0.0.1:80"},
			{"0.0.0.0:65535", c.l.inet, "0.0.0.0:65535"},
			{"[::1]:1", c.l.inet6, "[::1]:1"},
			{"[2001:db8::5]:9000", c.l.inet6, "[2001:db8::5]:9000"},
			{"10.1.2.3:7", c.l.inet6, "[::ffff:10.1.2.3]:7"}, // IPv4 on an AF_INET6 socket: mapped
			{"[::ffff:10.1.2.3]:7", c.l.inet, "10.1.2.3:7"},  // and back on an AF_INET one
		} {
			var sa poller.Sockaddr
			c.l.putInet(&sa, netip.MustParseAddrPort(tc.ap), int(tc.family))
			got, ok := c.l.inetAddrPort(&sa)
			if !ok || got.String() != tc.want || c.l.family(&sa) != uint16(tc.family) || sa.Raw[0] != byte(sa.Len) {
				t.Errorf("%s: %s on family %d decodes as %v, %v (family %d, len byte %d of %d); want %s",
					c.os, tc.ap, tc.family, got, ok, c.l.family(&sa), sa.Raw[0], sa.Len, tc.want)
			}
		}
		// A scope id survives the round trip; a numeric zone is kept as its number
		// when no interface has that index.
		var sa poller.Sockaddr
		c.l.putInet6(&sa, netip.MustParseAddr("fe80::2").As16(), 5, 4000000)
		ip, port, scope, ok := c.l.decodeInet(&sa)
		if !ok || ip != netip.MustParseAddr("fe80::2") || port != 5 || scope != 4000000 {
			t.Errorf("%s: scoped sockaddr_in6 decodes as %v %d %d %v", c.os, ip, port, scope, ok)
		}
		if ap, _ := c.l.inetAddrPort(&sa); ap.Addr().Zone() != "4000000" {
			t.Errorf("%s: zone of scope 4000000 = %q", c.os, ap.Addr().Zone())
		}
		c.l.putInet(&sa, netip.MustParseAddrPort("[fe80::2%4000000]:5"), int(c.l.inet6))
		if _, _, scope, _ := c.l.decodeInet(&sa); scope != 4000000 {
			t.Errorf("%s: zone 4000000 encodes as scope %d", c.os, scope)
		}
	}
}

func TestBSDSockaddrUnix(t *testing.T) {
	for _, c := range bsdLayouts {
		var sa poller.Sockaddr
		if err := c.l.putUnix(&sa, "/tmp/s"); err != nil {
			t.Fatal(err)
		}
		want := []byte{9, 1, '/', 't', 'm', 'p', '/', 's', 0}
		if sa.Len != 9 || !bytes.Equal(sa.Raw[:sa.Len], want) {
			t.Errorf("%s: sockaddr_un = % x, want % x", c.os, sa.Raw[:sa.Len], want)
		}
		if p := c.l.unixPath(&sa); p != "/tmp/s" {
			t.Errorf("%s: path %q", c.os, p)
		}
		// Some kernels leave the NUL out of the length: the same path.
		sa.Len--
		if p := c.l.unixPath(&sa); p != "/tmp/s" {
			t.Errorf("%s: path without the NUL counted: %q", c.os, p)
		}
		// No abstract names on the BSDs: '@' is part of the file name.
		if err := c.l.putUnix(&sa, "@x"); err != nil || sa.Raw[2] != '@' || c.l.unixPath(&sa) != "@x" {
			t.Errorf("%s: @x encodes as % x (%v)", c.os, sa.Raw[:sa.Len], err)
		}
		// sun_path holds 104 bytes, the NUL included.
		long := strings.Repeat("a", bsdUnixPath-1)
		if err := c.l.putUnix(&sa, long); err != nil || c.l.unixPath(&sa) != long || sa.Len != bsdUnixPath+2 {
			t.Errorf("%s: a %d-byte path: len %d, %v", c.os, len(long), sa.Len, err)
		}
		for _, bad := range []string{"", long + "a"} {
			if err := c.l.putUnix(&sa, bad); !errors.Is(err, syscall.EINVAL) {
				t.Errorf("%s: putUnix of %d bytes: %v, want EINVAL", c.os, len(bad), err)
			}
		}
		// An unnamed socket (the header alone) has the path "", as Go's net gives it
		// on these systems.
		sa = poller.Sockaddr{Len: bsdUnixHeader}
		sa.Raw[0], sa.Raw[1] = bsdUnixHeader, c.l.unix
		if p := c.l.unixPath(&sa); p != "" {
			t.Errorf("%s: unnamed socket's path %q", c.os, p)
		}
	}
}

// TestBSDSockaddrDecodeAnything decodes every length against every family byte:
// short or foreign addresses are refused, nothing reads past the buffer.
func TestBSDSockaddrDecodeAnything(t *testing.T) {
	l := bsdLayouts[0].l
	var sa poller.Sockaddr
	for i := range sa.Raw {
		sa.Raw[i] = byte(i*7 + 1)
	}
	for fam := range 256 {
		sa.Raw[1] = byte(fam)
		for _, n := range []uint32{0, 1, 2, 3, 15, 16, 27, 28, 105, 106, 128, 129, 1 << 31} {
			sa.Len = n
			_, _, _, ok := l.decodeInet(&sa)
			wantOK := (byte(fam) == l.inet && n >= bsdSizeofInet4) || (byte(fam) == l.inet6 && n >= bsdSizeofInet6)
			if ok != wantOK {
				t.Errorf("family %d len %d: decodeInet ok = %v", fam, n, ok)
			}
			if p := l.unixPath(&sa); len(p) > bsdUnixPath {
				t.Errorf("len %d: path of %d bytes", n, len(p))
			}
		}
	}
}

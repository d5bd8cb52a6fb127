package znet

import (
	"net"
	"path/filepath"
	"testing"

	"github.com/zokio/zokio/internal/testkit"
	"github.com/zokio/zokio/runtime"
)

// TestUnnamedUnixAddr: the unnamed end of a Unix connection (the dialing client's
// local address, the accepted peer's remote one) prints as Go's net prints it, side by
// side with a net.Listen / net.Dial pair on the same system.
func TestUnnamedUnixAddr(t *testing.T) {
	if err := unixSockets(); err != nil {
		t.Skipf("no AF_UNIX here (Wine 8 lacks it): %v", err)
	}
	dir := testkit.TempDir(t)
	// Go's net, for the expected strings.
	nl, err := net.Listen("unix", filepath.Join(dir, "net.sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer nl.Close()
	nc, err := net.Dial("unix", nl.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	ns, err := nl.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	wantLocal, wantRemote := nc.LocalAddr().String(), ns.RemoteAddr().String()

	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		ln := listenT(t, rt, "unix", filepath.Join(dir, "z-"+t.Name()[len("TestUnnamedUnixAddr/"):]+".sock"))
		defer ln.Close()
		srvc := acceptT(t, ln)
		c := dialT(t, rt, "unix", ln.Addr().String())
		s := acceptedT(t, srvc)
		if got := c.LocalAddr().String(); got != wantLocal {
			t.Errorf("dialed client's LocalAddr %q, net gives %q", got, wantLocal)
		}
		if got := s.RemoteAddr().String(); got != wantRemote {
			t.Errorf("accepted conn's RemoteAddr %q, net gives %q", got, wantRemote)
		}
		if got, want := c.LocalAddr().Network(), nc.LocalAddr().Network(); got != want {
			t.Errorf("LocalAddr network %q, net gives %q", got, want)
		}
	})
}

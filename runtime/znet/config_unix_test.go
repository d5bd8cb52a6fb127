//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package znet

import (
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/zokio/zokio/internal/testkit"
	"github.com/zokio/zokio/runtime"
)

// TestServeRefusesUnknownAcceptMode: an AcceptMode outside the defined ones fails
// Serve with a *net.OpError naming the field, and leaves no socket behind (issue 15,
// item 9: it was taken as AcceptHandoff without a word).
func TestServeRefusesUnknownAcceptMode(t *testing.T) {
	forEachDriver(t, 2, func(t *testing.T, rt *runtime.Runtime) {
		fds := testkit.FDCount(t)
		for _, m := range []AcceptMode{AcceptHandoff + 1, 255} {
			s, err := Serve(ctxT(t), rt, "tcp", "127.0.0.1:0", Config{Handler: newEcho(), Accept: m})
			var oe *net.OpError
			if err == nil {
				s.Close(ctxT(t))
				t.Fatalf("Serve with Accept %d succeeded", m)
			}
			if s != nil || !errors.As(err, &oe) || oe.Op != "listen" || !strings.Contains(err.Error(), "Config.Accept") {
				t.Fatalf("Serve with Accept %d: %v, %v; want nil and a listen *net.OpError naming Config.Accept", m, s, err)
			}
		}
		waitFds(t, fds)
		for _, m := range []AcceptMode{AcceptAuto, AcceptReusePort, AcceptHandoff} {
			s, err := Serve(ctxT(t), rt, "tcp", "127.0.0.1:0", Config{Handler: newEcho(), Accept: m})
			if err != nil {
				t.Fatalf("Serve with Accept %d: %v", m, err)
			}
			if err := s.Close(ctxT(t)); err != nil {
				t.Fatalf("Close of a server with Accept %d: %v", m, err)
			}
		}
	})
}

package znet

import (
	"context"
	"errors"
	"net"
	"os"
	"testing"
	"time"

	"github.com/zokio/zokio/runtime"
)

// TestDialContextErrorsLikeNet: a dial whose context has expired or was cancelled fails
// with an error that errors.Is, Timeout and the message judge as net.Dialer's does,
// side by side; in particular neither matches os.ErrDeadlineExceeded.
func TestDialContextErrorsLikeNet(t *testing.T) {
	expired, cancel1 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel1()
	cancelled, cancel2 := context.WithCancel(context.Background())
	cancel2()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr := ln.Addr().String()
	targets := []error{context.DeadlineExceeded, context.Canceled, os.ErrDeadlineExceeded}
	forEachDriver(t, 1, func(t *testing.T, rt *runtime.Runtime) {
		for _, tc := range []struct {
			name string
			ctx  context.Context
		}{{"expired", expired}, {"cancelled", cancelled}} {
			var d net.Dialer
			_, nerr := d.DialContext(tc.ctx, "tcp", addr)
			c, zerr := Dial(tc.ctx, rt, "tcp", addr)
			if zerr == nil {
				c.Close()
				t.Fatalf("%s: Dial succeeded", tc.name)
			}
			if nerr == nil {
				t.Fatalf("%s: net's dial succeeded", tc.name)
			}
			for _, target := range targets {
				if got, want := errors.Is(zerr, target), errors.Is(nerr, target); got != want {
					t.Errorf("%s: errors.Is(%v, %v) = %v, net's %v gives %v", tc.name, zerr, target, got, nerr, want)
				}
			}
			var zne, nne net.Error
			if errors.As(zerr, &zne) != errors.As(nerr, &nne) || (zne != nil && zne.Timeout() != nne.Timeout()) {
				t.Errorf("%s: Timeout of %v differs from net's %v", tc.name, zerr, nerr)
			}
			var oe *net.OpError
			if !errors.As(zerr, &oe) || oe.Op != "dial" {
				t.Errorf("%s: %v is not a dial *net.OpError", tc.name, zerr)
			}
		}
	})
}

package znet

import (
	goruntime "runtime"
	"testing"
	"weak"

	"github.com/zokio/zokio/internal/testkit"
	"github.com/zokio/zokio/runtime"
)

// TestRegistryLetsLoopsGo: after a runtime that served connections (with a send
// arena and forwarded buffers) has closed, nothing in the package keeps its loops
// reachable.
func TestRegistryLetsLoopsGo(t *testing.T) {
	for _, k := range testkit.Drivers(t) {
		t.Run(string(k), func(t *testing.T) {
			wl := func() weak.Pointer[runtime.Loop] {
				rt, err := runtime.New(runtime.Options{Loops: 1, Driver: k, NoPin: true})
				if err != nil {
					t.Fatal(err)
				}
				h := &stuckForwarder{echoHandler: *newEcho(), left: make(chan int, 1)}
				s, err := Serve(ctxT(t), rt, "tcp", "127.0.0.1:0", Config{Handler: h, SendArena: 2})
				if err != nil {
					t.Fatal(err)
				}
				c := dialStd(t, s)
				c.Write(make([]byte, 5000))
				buf := make([]byte, 5000)
				if _, err := c.Read(buf); err != nil {
					t.Fatal(err)
				}
				c.Close()
				if err := s.Close(ctxT(t)); err != nil {
					t.Fatal(err)
				}
				if err := rt.Close(ctxT(t)); err != nil {
					t.Fatal(err)
				}
				return weak.Make(rt.Loops()[0])
			}()
			for range 4 {
				goruntime.GC()
			}
			if wl.Value() != nil {
				t.Error("a closed runtime's loop is still reachable")
			}
		})
	}
}

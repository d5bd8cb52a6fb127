//go:build !linux

package numa

import (
	"runtime"
	"testing"
)

func TestOneNodeElsewhere(t *testing.T) {
	top, err := Read()
	if err != nil {
		t.Fatal(err)
	}
	if len(top.Nodes) != 1 || len(top.Allowed) != runtime.NumCPU() || top.MultiNode() {
		t.Fatalf("%s", top)
	}
	if err := Bind(make([]byte, 1), 0, Preferred); err != nil {
		t.Fatalf("Bind to node 0: %v", err)
	}
	if err := Bind(make([]byte, 1), 1, Preferred); err == nil {
		t.Fatal("Bind to node 1 succeeded")
	}
}

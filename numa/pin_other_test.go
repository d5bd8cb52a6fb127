//go:build !linux && !windows

package numa

import (
	"errors"
	"testing"
)

func TestPinThreadUnsupported(t *testing.T) {
	if err := PinThread(0); !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("PinThread: %v", err)
	}
}

package soak

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/zokio/zokio/internal/testkit"
)

// TestMain fails the soak if a goroutine started by it outlives it, and runs it over a
// fault-injecting driver when ZOKIO_FAULTS asks (testkit.WithFaults).
func TestMain(m *testing.M) { goleak.VerifyTestMain(testkit.WithFaults(m)) }

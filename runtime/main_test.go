package runtime

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/zokio/zokio/internal/testkit"
)

// TestMain fails the package's tests if any goroutine started by them outlives them,
// and runs them over a fault-injecting driver when ZOKIO_FAULTS asks
// (testkit.WithFaults).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(testkit.WithFaults(m))
}

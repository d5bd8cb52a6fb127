package zfile

import (
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/zokio/zokio/internal/testkit"
)

// TestMain fails the package's tests if a goroutine started by them outlives them, and
// runs them over a fault-injecting driver when ZOKIO_FAULTS asks (testkit.WithFaults).
// A test binary re-executed as a child (see runChild) runs its scenario instead.
func TestMain(m *testing.M) {
	if name := os.Getenv(childEnv); name != "" {
		os.Exit(runChildScenario(name))
	}
	goleak.VerifyTestMain(testkit.WithFaults(m))
}

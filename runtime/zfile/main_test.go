package zfile

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if a goroutine started by them outlives them. A
// test binary re-executed as a child (see runChild) runs its scenario instead.
func TestMain(m *testing.M) {
	if name := os.Getenv(childEnv); name != "" {
		os.Exit(runChildScenario(name))
	}
	goleak.VerifyTestMain(m)
}

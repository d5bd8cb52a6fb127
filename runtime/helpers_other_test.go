//go:build !linux && !windows

package runtime

import "testing"

// On platforms without thread IDs and /proc, the thread and resource checks are
// skipped; the behaviour they guard is Linux's.

func threadID() int { return 0 }

func currentCPU() int { return -1 }

func loopThread(t *testing.T, l *Loop) int {
	t.Helper()
	t.Skip("thread identity is checked on Linux only")
	return 0
}

type resources struct{}

func snapshot(t *testing.T) *resources                      { return &resources{} }
func (r *resources) watchThreads(t *testing.T, rt *Runtime) {}
func (r *resources) check(t *testing.T, rt *Runtime)        {}

//go:build !race

package runtime

// Stress sizes without the race detector (-short divides them by ten).
const (
	stressInboxTasks = 2_000_000
	stressRunqTasks  = 2_000_000
	stressTimers     = 1_000_000
)

// stressPosts is how many tasks TestPostStress posts through the runtime (millions, as
// the lost-wakeup proof needs; fewer under the race detector, which slows posts 10×).
const stressPosts = 2_000_000

//go:build race

package runtime

// Stress sizes under the race detector, which slows these tests about tenfold. They stay
// large enough to wrap every ring many times and to make producers and stealers collide.
const (
	stressInboxTasks = 500_000
	stressRunqTasks  = 500_000
	stressTimers     = 1_000_000
)

// stressPosts is how many tasks TestPostStress posts through the runtime (millions, as
// the lost-wakeup proof needs; fewer under the race detector, which slows posts 10×).
const stressPosts = 1_000_000

package faultdriver

import (
	"fmt"
	"strconv"
	"strings"
)

// Kind is a set of fault kinds.
type Kind uint32

// The fault kinds; see the package documentation for what each one does.
const (
	Short Kind = 1 << iota
	Delay
	Cancel
	Errno
	SubmitErr
	kindEnd

	// Transparent is what a correct layer above a driver absorbs without a visible
	// difference: the contract lets every driver produce it.
	Transparent = Short | Delay
	// All is every kind.
	All = kindEnd - 1
)

var kindNames = [...]string{"short", "delay", "cancel", "errno", "submit"}

// String lists the kinds joined by '+'.
func (k Kind) String() string {
	var parts []string
	for i, n := range kindNames {
		if k&(1<<i) != 0 {
			parts = append(parts, n)
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "+")
}

// Config is a fault schedule.
type Config struct {
	// Seed seeds the schedule.
	Seed uint64
	// Rate is the probability, for each op and each kind that applies to it, that
	// the fault is injected (0 to 1).
	Rate float64
	// Kinds are the faults to inject (default Transparent).
	Kinds Kind
	// MaxDelay is the most Wait calls a held completion waits (default 3).
	MaxDelay int
}

// EnvVar names the environment variable that package testkit reads to run a test
// binary's drivers over this one: ZOKIO_FAULTS=seed:N,rate:R[,kinds:K][,delay:D],
// where K is "transparent", "all" or kind names joined by '+'
// (short+delay+cancel+errno+submit).
const EnvVar = "ZOKIO_FAULTS"

// Parse reads a schedule in EnvVar's syntax.
func Parse(s string) (Config, error) {
	c := Config{Rate: 0.1, Kinds: Transparent, MaxDelay: 3}
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		key, val, ok := strings.Cut(f, ":")
		if !ok {
			return Config{}, fmt.Errorf("faultdriver: %q: want key:value", f)
		}
		var err error
		switch key {
		case "seed":
			c.Seed, err = strconv.ParseUint(val, 10, 64)
		case "rate":
			c.Rate, err = strconv.ParseFloat(val, 64)
			if err == nil && !(c.Rate >= 0 && c.Rate <= 1) {
				err = fmt.Errorf("rate %v outside [0, 1]", c.Rate)
			}
		case "delay":
			c.MaxDelay, err = strconv.Atoi(val)
			if err == nil && (c.MaxDelay < 1 || c.MaxDelay > 1000) {
				err = fmt.Errorf("delay %d outside [1, 1000]", c.MaxDelay)
			}
		case "kinds":
			c.Kinds, err = parseKinds(val)
		default:
			err = fmt.Errorf("unknown key %q", key)
		}
		if err != nil {
			return Config{}, fmt.Errorf("faultdriver: %s: %w", EnvVar, err)
		}
	}
	return c, nil
}

func parseKinds(s string) (Kind, error) {
	switch s {
	case "transparent":
		return Transparent, nil
	case "all":
		return All, nil
	case "none":
		return 0, nil
	}
	var k Kind
	for _, n := range strings.Split(s, "+") {
		i := indexOf(n)
		if i < 0 {
			return 0, fmt.Errorf("unknown fault kind %q", n)
		}
		k |= 1 << i
	}
	return k, nil
}

func indexOf(n string) int {
	for i, kn := range kindNames {
		if kn == n {
			return i
		}
	}
	return -1
}

// String writes c in EnvVar's syntax.
func (c Config) String() string {
	return fmt.Sprintf("seed:%d,rate:%g,kinds:%v,delay:%d", c.Seed, c.Rate, c.Kinds, c.MaxDelay)
}

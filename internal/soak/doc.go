// Package soak holds the bounded soak test (docs/RELIABILITY.md, "The harness"): for a
// stated time per driver it runs runtime New/Close cycles, and in each cycle
// connection churn with checksummed echo (the testkit data oracle), file writes read
// back and verified, timers and read deadlines, all under a storm of SIGURG and
// SIGUSR1 sent to every thread of the process. At the end no byte may be lost or
// corrupted, and descriptors, goroutines and resident memory may not have grown beyond
// the bounds the test states.
//
// It is off in ordinary test runs. CI runs it for a minute per driver:
//
//	go test -run TestSoak ./internal/soak -soak=1m
//
// Before a release run it longer, optionally under fault injection:
//
//	go test -timeout 3h -run TestSoak ./internal/soak -soak=1h
//	ZOKIO_FAULTS=seed:1,rate:0.05 go test -timeout 3h -run TestSoak ./internal/soak -soak=1h
package soak
